/**
 * `openclaw gateway` / `openclaw gateway run`: flags as OpenClaw names them, handed to the runner.
 *
 * @module
 */
import type { RunnerCommand } from "../command.ts";
import { choiceFlag, type FlagTable, intFlag, stringFlag } from "../cli/args.ts";
import { defineCommand } from "../cli/define-command.ts";
import { CliError, EXIT } from "../cli/errors.ts";
import { gatewayModules } from "../gateway/modules.ts";
import { runGateway } from "../gateway/run.ts";

const FLAGS: FlagTable = {
  port: {
    type: "string",
    valueName: "<port>",
    description: "Port for WS and HTTP (default: env, config, 18789)",
  },
  bind: {
    type: "string",
    valueName: "<mode>",
    description: "loopback (default), lan, tailnet, auto or custom",
  },
  auth: {
    type: "string",
    valueName: "<mode>",
    description: "Auth mode: none, token, password, trusted-proxy",
  },
  token: {
    type: "string",
    valueName: "<token>",
    description: "Shared token (default: config, OPENCLAW_GATEWAY_TOKEN)",
  },
  password: {
    type: "string",
    valueName: "<password>",
    description: "Shared password (visible in process lists)",
  },
  "password-file": {
    type: "string",
    valueName: "<path>",
    description: "Read the shared password from a file",
  },
  "allow-unconfigured": { type: "boolean", description: "Start without gateway.mode=local (writes nothing)" },
  dev: { type: "boolean", description: "Create a dev config (token, local model) if missing" },
  reset: {
    type: "boolean",
    description: "With --dev: wipe the dev config, credentials, sessions, workspace",
  },
  force: { type: "boolean", description: "Stop whatever listens on the port first" },
  verbose: { type: "boolean", description: "Debug-level console logs" },
  "ws-log": {
    type: "string",
    valueName: "<style>",
    description: "auto (default), compact, or full (= --verbose)",
  },
  compact: { type: "boolean", description: "Alias for --ws-log compact" },
  tailscale: {
    type: "string",
    valueName: "<mode>",
    description: "Tailscale exposure; only off is supported here",
  },
};

const BIND_MODES = ["loopback", "lan", "tailnet", "auto", "custom"] as const;
const AUTH_MODES = ["none", "token", "password", "trusted-proxy"] as const;

/** Host seams the command needs beyond the CLI context. */
export interface GatewayRunHost {
  isTerminal: boolean;
  onRestartSignal?(listener: () => void): () => void;
}

/** Builds `gateway` and `gateway run` (the same command under two paths). */
export function gatewayRunCommands(host: GatewayRunHost): RunnerCommand[] {
  return [["gateway"], ["gateway", "run"]].map((path) =>
    defineCommand({
      path,
      summary: "Run the gateway in the foreground",
      flags: FLAGS,
      async run({ flags, positionals }, context) {
        if (positionals.length) {
          throw new CliError(
            `unknown gateway command "${positionals[0]}". Try: openclaw gateway --help`,
            EXIT.usage,
          );
        }
        const tailscale = choiceFlag(flags, "tailscale", ["off", "serve", "funnel"] as const);
        if (tailscale && tailscale !== "off") {
          throw new CliError(
            `--tailscale ${tailscale} is not supported by this gateway; put a proxy in front instead`,
            EXIT.usage,
          );
        }
        const wsLog = choiceFlag(flags, "ws-log", ["auto", "compact", "full"] as const);
        let password = stringFlag(flags, "password");
        const passwordFile = stringFlag(flags, "password-file");
        if (passwordFile) {
          if (password) throw new CliError("pass --password or --password-file, not both", EXIT.usage);
          password = (await Deno.readTextFile(passwordFile)).trim();
        }
        return await runGateway(context, {
          overrides: {
            port: intFlag(flags, "port", 0, 65535),
            bind: choiceFlag(flags, "bind", BIND_MODES),
            auth: choiceFlag(flags, "auth", AUTH_MODES),
            token: stringFlag(flags, "token"),
            password,
          },
          allowUnconfigured: Boolean(flags["allow-unconfigured"]),
          dev: context.dev || Boolean(flags.dev),
          reset: Boolean(flags.reset),
          force: Boolean(flags.force),
          verbose: Boolean(flags.verbose) || wsLog === "full",
          modules: gatewayModules,
          isTerminal: host.isTerminal,
          onRestartSignal: host.onRestartSignal,
        });
      },
    })
  );
}
