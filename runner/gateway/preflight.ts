/**
 * What `gateway run` resolves before it listens, without listening: the layered config, its validation,
 * SecretRefs and `${ENV}` in the auth secrets, and whether auth has a credential. `config validate` runs
 * this so a config it passes is one a start accepts, with the same message when it is not.
 *
 * @module
 */
import { homedir } from "node:os";
import { authConfigProblem, resolveAuth } from "../../lib/auth/shared-secret.ts";
import { resolveSecrets } from "../../lib/config/secrets.ts";
import type { ConfigSnapshot } from "../../lib/config/source.ts";
import { createLogger, type LogRecord } from "../../lib/log/logger.ts";
import type { ProfilePaths } from "../command.ts";
import { resolveHome } from "../cli/profile-paths.ts";
import { hostSecretResolvers } from "../config/secret-providers.ts";
import { gatewayConfigSource } from "./config-layers.ts";
import { GatewaySupervisor } from "./supervisor.ts";

/** A config a start would accept, and what a start would warn about. */
export interface PreflightResult {
  snapshot: ConfigSnapshot;
  warnings: string[];
}

/** Resolves the config as `gateway run` does; throws (with the start's message) where a start would fail. */
export async function preflightGatewayConfig(
  paths: ProfilePaths,
  env: Readonly<Record<string, string | undefined>>,
): Promise<PreflightResult> {
  const home = resolveHome(env, homedir());
  const records: LogRecord[] = [];
  const { source } = gatewayConfigSource({
    configPath: paths.configPath,
    profile: paths.profile,
    env,
    flags: {},
  });
  const supervisor = new GatewaySupervisor({
    source,
    logger: createLogger({ sinks: [{ write: (r) => records.push(r) }], level: "warn" }),
    resolveSecrets: (config, previous) =>
      resolveSecrets(config, { resolvers: hostSecretResolvers(env, home), previous: previous?.values }),
    createGateway: () => {
      throw new Error("preflight never starts a gateway");
    },
  });
  const prepared = await supervisor.prepare();
  // With no file there is nothing to validate yet; `setup` writes one with a token.
  const problem = prepared.loaded.snapshot.exists
    ? authConfigProblem(resolveAuth(prepared.runtime.gateway?.auth, env))
    : undefined;
  if (problem) throw new PreflightError(problem);
  return {
    snapshot: prepared.loaded.snapshot,
    warnings: records.map(({ time: _time, level: _level, subsystem: _subsystem, msg, ...fields }) =>
      Object.keys(fields).length ? `${msg} ${JSON.stringify(fields)}` : msg
    ),
  };
}

/** A config a start would refuse for a reason other than the schema (auth with no credential). */
export class PreflightError extends Error {
  constructor(message: string) {
    super(message);
    this.name = "PreflightError";
  }
}
