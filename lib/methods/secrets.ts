/**
 * `secrets.reload`: re-resolves SecretRefs into the running gateway without a restart. Resolving file
 * and exec refs needs the host, so the host hands in how; the method answers as the reference does.
 *
 * @module
 */
import * as z from "zod";
import { GatewayError } from "../errors.ts";
import { type AnyMethod, anyParams, defineMethod } from "./descriptor.ts";

/** What a secrets reload reports. */
export interface SecretsReloadOutcome {
  /** Whether the new values are in force (a failing gateway credential keeps the old ones). */
  ok: boolean;
  /** How many refs could not be resolved. */
  warningCount: number;
  /** Each ref that could not be resolved. */
  failures: readonly { path: string; state: string; message: string }[];
  /** Why the reload was refused, when `ok` is false. */
  error?: string;
}

const ReloadResult = z.object({
  ok: z.literal(true),
  warningCount: z.number(),
  warnings: z.array(z.object({ path: z.string(), state: z.string(), message: z.string() })).optional(),
});

/** `secrets.reload` (admin), delegating to `reload`. */
export function secretsMethods(reload: () => Promise<SecretsReloadOutcome>): AnyMethod[] {
  return [defineMethod({
    name: "secrets.reload",
    scope: "operator.admin",
    params: anyParams,
    result: ReloadResult,
    handler: async () => {
      const outcome = await reload();
      if (!outcome.ok) {
        throw new GatewayError("UNAVAILABLE", `secrets reload rejected: ${outcome.error}`, {
          details: { code: "SECRETS_RELOAD_FAILED" },
        });
      }
      return {
        ok: true as const,
        warningCount: outcome.warningCount,
        ...(outcome.failures.length
          ? { warnings: outcome.failures.map((f) => ({ path: f.path, state: f.state, message: f.message })) }
          : {}),
      };
    },
  })];
}

/**
 * The module that installs `secrets.reload`.
 *
 * @example Re-resolve secrets on an operator's request
 * ```ts
 * import { createGateway, secretsModule } from "@openclaw-ts/gateway";
 *
 * let reloads = 0;
 * // The host resolves its SecretRefs again here and reports the ones that failed.
 * const reload = () => (reloads++, Promise.resolve({ ok: true, warningCount: 0, failures: [] }));
 * const gateway = createGateway({
 *   config: { gateway: { auth: { token: "s3cret" } } },
 *   modules: [secretsModule(reload)],
 * });
 * await gateway.start();
 * const answer = await gateway.call("secrets.reload", {}) as { ok: boolean; warningCount: number };
 * if (!answer.ok || reloads !== 1) throw new Error(JSON.stringify(answer));
 * await gateway.stop();
 * ```
 */
export function secretsModule(
  reload: () => Promise<SecretsReloadOutcome>,
): { name: string; setup(host: { registerMethod(method: AnyMethod): void }): void } {
  return {
    name: "secrets",
    setup(host) {
      for (const method of secretsMethods(reload)) host.registerMethod(method);
    },
  };
}
