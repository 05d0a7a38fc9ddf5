/**
 * `openclaw secrets reload`: asks the running gateway to re-resolve its SecretRefs (RPC `secrets.reload`)
 * without a restart and without touching the config file.
 *
 * @module
 */
import type { RunnerCommand } from "../command.ts";
import { defineCommand } from "../cli/define-command.ts";
import { CliError } from "../cli/errors.ts";
import { OWNER_SCOPES } from "./ops/connect.ts";
import type { OpsHost } from "./ops/host.ts";
import { withConnection } from "./ops/rpc-commands.ts";
import { CONNECTION_FLAGS, printJson, querySetup } from "./ops/shared.ts";

/** Exit code for refs that did not resolve, as OpenClaw's CI gates expect. */
const EXIT_UNRESOLVED = 2;

/** `secrets reload`. */
export function secretsReloadCommand(host: OpsHost): RunnerCommand {
  return defineCommand({
    path: ["secrets", "reload"],
    summary: "Re-resolve SecretRefs in the running gateway (no restart, no config write)",
    flags: CONNECTION_FLAGS,
    async run({ flags }, ctx) {
      const setup = await querySetup(flags, ctx);
      const target = setup.gateway.targets[0];
      try {
        const result = await withConnection(
          host,
          target,
          setup.timeoutMs,
          OWNER_SCOPES,
          (c) =>
            c.request<{ ok: boolean; warningCount: number; warnings?: { path: string; message: string }[] }>(
              "secrets.reload",
              {},
            ),
        );
        if (setup.json) printJson(ctx, result);
        else {
          ctx.output.out(
            `Secrets reloaded${result.warningCount ? ` with ${result.warningCount} warning(s)` : ""}.`,
          );
          for (const w of result.warnings ?? []) ctx.output.err(`warning: ${w.path}: ${w.message}`);
        }
        return 0;
      } catch (err) {
        if (err instanceof CliError && /secrets reload rejected/.test(err.message)) {
          throw new CliError(err.message, EXIT_UNRESOLVED);
        }
        throw err;
      }
    },
  });
}
