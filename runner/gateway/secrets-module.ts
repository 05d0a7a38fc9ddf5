/**
 * `secrets.reload`: re-resolves SecretRefs into the running gateway without a restart. It lives in the
 * runner because resolving file and exec refs needs the host.
 *
 * @module
 */
import { GatewayError } from "../../lib/errors.ts";
import type { GatewayModule } from "../../lib/types.ts";
import type { SecretsReloadOutcome } from "./supervisor.ts";

/** Installs `secrets.reload` (admin scope), delegating to `reload`. */
export function secretsModule(reload: () => Promise<SecretsReloadOutcome>): GatewayModule {
  return {
    name: "secrets",
    setup(context) {
      context.registerMethod("secrets.reload", "operator.admin", async () => {
        const outcome = await reload();
        if (!outcome.ok) {
          throw new GatewayError("UNAVAILABLE", `secrets reload rejected: ${outcome.error}`, {
            details: { code: "SECRETS_RELOAD_FAILED" },
          });
        }
        return {
          ok: true,
          warningCount: outcome.warningCount,
          ...(outcome.failures.length
            ? {
              warnings: outcome.failures.map((f) => ({ path: f.path, state: f.state, message: f.message })),
            }
            : {}),
        };
      });
    },
  };
}
