/**
 * The layers a gateway run reads its config from, lowest first: built-in defaults for the profile, the
 * config file, OpenClaw's env variables, then command-line flags. This is the documented precedence
 * (`--port` → `OPENCLAW_GATEWAY_PORT` → `gateway.port` → default; `--bind` → `gateway.bind` → loopback;
 * auth flags → config → env, the env fallback being applied by the core only when the config has none).
 *
 * @module
 */
import {
  type ConfigSource,
  envConfigSource,
  layeredConfigSource,
  objectConfigSource,
} from "../../lib/config/source.ts";
import type { AuthMode, GatewaySection } from "../../lib/config/sections/gateway.ts";
import { type FileConfigSource, fileConfigSource } from "../config/file-source.ts";
import { DEV_PORT } from "../cli/profile-paths.ts";

/** Gateway settings given on the command line. */
export interface GatewayFlagOverrides {
  port?: number;
  bind?: NonNullable<GatewaySection["bind"]>;
  auth?: AuthMode;
  token?: string;
  password?: string;
}

/** The `gateway` fragment the flags stand for; absent flags leave the lower layers alone. */
export function flagOverlay(flags: GatewayFlagOverrides): Record<string, unknown> {
  const auth: Record<string, unknown> = {};
  if (flags.auth) auth.mode = flags.auth;
  if (flags.token) auth.token = flags.token;
  if (flags.password) auth.password = flags.password;
  const gateway: Record<string, unknown> = {};
  if (flags.port !== undefined) gateway.port = flags.port;
  if (flags.bind) gateway.bind = flags.bind;
  if (Object.keys(auth).length) gateway.auth = auth;
  return Object.keys(gateway).length ? { gateway } : {};
}

/** The layered source for a run, and the file layer within it (watched, and written by config commands). */
export function gatewayConfigSource(options: {
  configPath: string;
  profile: string;
  env: Readonly<Record<string, string | undefined>>;
  flags: GatewayFlagOverrides;
}): { source: ConfigSource; file: FileConfigSource } {
  const file = fileConfigSource(options.configPath, { env: options.env });
  const defaults = options.profile === "dev" ? { gateway: { port: DEV_PORT } } : {};
  const source = layeredConfigSource([
    objectConfigSource(defaults, "defaults"),
    file,
    envConfigSource(options.env),
    objectConfigSource(flagOverlay(options.flags), "flags"),
  ], file);
  return { source, file };
}
