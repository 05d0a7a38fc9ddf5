/**
 * `openclaw gateway install | uninstall | start | stop | restart`: the gateway as an OS service.
 *
 * @module
 */
import { type FlagValues, intFlag, stringFlag } from "../../cli/args.ts";
import { defineCommand } from "../../cli/define-command.ts";
import { CliError, EXIT } from "../../cli/errors.ts";
import type { CliContext, RunnerCommand } from "../../command.ts";
import { buildGatewayServiceSpec } from "../../../lib/service/spec.ts";
import type { InstalledService, ServiceInstaller, ServiceSpec } from "../../../lib/service/types.ts";
import { type CliConfigReport, readCliConfig } from "./config.ts";
import type { OpsHost } from "./host.ts";
import { findInstaller } from "./service.ts";
import { printJson } from "./shared.ts";
import { resolvePort } from "./target.ts";

const JSON_FLAG = { json: { type: "boolean" as const, description: "Print one JSON document" } };

function requireInstaller(host: OpsHost, ctx: CliContext): ServiceInstaller {
  if (ctx.env.OPENCLAW_SUPERVISOR_MODE === "external") {
    throw new CliError(
      "OPENCLAW_SUPERVISOR_MODE=external: an external supervisor owns the gateway's lifecycle; use it instead of the native service",
    );
  }
  const { installer, reason } = findInstaller(host, ctx);
  if (!installer) throw new CliError(reason ?? "no supported service manager on this host");
  return installer;
}

/** What `install` (and doctor's repair) feed into the service definition. */
export interface InstallInputs {
  port?: number;
  token?: string;
  password?: string;
  wrapper?: string;
}

/**
 * The definition for this profile. Secrets come from flags, else from the shell when the config does not
 * hold them (the service does not inherit the shell), else from the installed service (so repairs keep them).
 */
export function gatewaySpec(
  host: OpsHost,
  ctx: CliContext,
  config: CliConfigReport,
  inputs: InstallInputs,
  installed?: InstalledService,
): ServiceSpec {
  const auth = config.config.gateway?.auth;
  if (auth?.token !== undefined && auth?.password !== undefined && auth?.mode === undefined) {
    throw new CliError(
      "gateway.auth has both a token and a password but no mode; set gateway.auth.mode before installing",
    );
  }
  const fromShell = (
    key: string,
    configured: unknown,
  ) => (configured === undefined ? ctx.env[key] || undefined : undefined);
  const wrapper = inputs.wrapper ?? ctx.env.OPENCLAW_WRAPPER ?? installed?.environment.OPENCLAW_WRAPPER;
  return buildGatewayServiceSpec({
    launcher: host.launcher(),
    profile: ctx.paths.profile,
    port: inputs.port ?? resolvePort(undefined, ctx.env, config.config, ctx.dev).port,
    stateDir: ctx.paths.stateDir,
    configPath: ctx.paths.configPath,
    token: inputs.token ?? fromShell("OPENCLAW_GATEWAY_TOKEN", auth?.token) ??
      installed?.environment.OPENCLAW_GATEWAY_TOKEN,
    password: inputs.password ?? fromShell("OPENCLAW_GATEWAY_PASSWORD", auth?.password) ??
      installed?.environment.OPENCLAW_GATEWAY_PASSWORD,
    wrapper: wrapper || undefined,
  });
}

function report(
  ctx: CliContext,
  flags: FlagValues,
  installer: ServiceInstaller,
  result: Record<string, unknown>,
  text: string[],
) {
  if (flags.json === true) {
    printJson(ctx, {
      ok: true,
      ...result,
      service: {
        kind: installer.kind,
        name: installer.name,
        definitionPath: installer.definitionPath,
        logs: installer.logs,
      },
    });
  } else {
    ctx.output.out(text.join("\n"));
  }
  return EXIT.ok;
}

function installCommand(host: OpsHost): RunnerCommand {
  return defineCommand({
    path: ["gateway", "install"],
    summary: "Install the gateway as a service (systemd user unit, LaunchAgent or scheduled task)",
    flags: {
      port: {
        type: "string",
        valueName: "<port>",
        description: "Port the service runs on (default: config)",
      },
      token: {
        type: "string",
        valueName: "<token>",
        description: "Gateway token for the service (kept in an owner-only env file)",
      },
      wrapper: {
        type: "string",
        valueName: "<exe>",
        description: "Start the gateway through this executable",
      },
      force: { type: "boolean", description: "Replace an existing, different service definition" },
      ...JSON_FLAG,
    },
    async run({ flags }, ctx) {
      const installer = requireInstaller(host, ctx);
      const config = await readCliConfig(ctx.paths.configPath, ctx.env);
      if (!config.valid) {
        throw new CliError(
          `config is invalid (${config.issues.join("; ")}); fix it first (openclaw doctor)`,
          EXIT.config,
        );
      }
      const installed = await installer.readInstalled();
      const spec = gatewaySpec(host, ctx, config, {
        port: intFlag(flags, "port", 1, 65535),
        token: stringFlag(flags, "token"),
        wrapper: stringFlag(flags, "wrapper"),
      }, installed);
      const outcome = await installer.install(spec, { force: flags.force === true });
      const port = spec.environment.OPENCLAW_GATEWAY_PORT;
      const verb =
        { installed: "Installed", updated: "Reinstalled", unchanged: "Already installed" }[outcome];
      const lines = [
        `${verb}: ${installer.kind} ${installer.name} (port ${port})`,
        `Definition: ${installer.definitionPath}`,
        `Logs: ${installer.logs}`,
      ];
      if (installer.kind === "systemd") {
        lines.push(
          "Tip: on a headless host run `sudo loginctl enable-linger $(whoami)` so it keeps running after logout.",
        );
      }
      lines.push("Check it with `openclaw gateway status`.");
      return report(ctx, flags, installer, { action: "install", result: outcome, port: Number(port) }, lines);
    },
  });
}

function lifecycleCommand(
  host: OpsHost,
  name: "uninstall" | "start" | "stop" | "restart",
  summary: string,
  act: (installer: ServiceInstaller, flags: FlagValues) => Promise<string>,
  extraFlags = {},
): RunnerCommand {
  return defineCommand({
    path: ["gateway", name],
    summary,
    flags: { ...extraFlags, ...JSON_FLAG },
    async run({ flags }, ctx) {
      const installer = requireInstaller(host, ctx);
      const message = await act(installer, flags);
      return report(ctx, flags, installer, { action: name, message }, [message]);
    },
  });
}

/** The service lifecycle commands. */
export function serviceCommands(host: OpsHost): RunnerCommand[] {
  return [
    installCommand(host),
    lifecycleCommand(
      host,
      "uninstall",
      "Stop and remove the gateway service",
      async (installer) =>
        await installer.uninstall()
          ? `Removed ${installer.kind} ${installer.name} (${installer.definitionPath})`
          : `Nothing to remove: ${installer.name} is not installed`,
    ),
    lifecycleCommand(host, "start", "Start the installed gateway service", async (installer) => {
      const state = await installer.status();
      if (state.installed && state.runtime === "running") {
        return `${installer.name} is already running${state.pid ? ` (pid ${state.pid})` : ""}`;
      }
      await installer.start();
      return `Started ${installer.name}`;
    }),
    lifecycleCommand(
      host,
      "stop",
      "Stop the gateway service (a missing service is a no-op)",
      async (installer, flags) => {
        const disable = flags.disable === true;
        if (!await installer.stop({ disable })) return `${installer.name} is not installed; nothing to stop`;
        return disable
          ? `Stopped and disabled ${installer.name} until the next \`openclaw gateway start\``
          : `Stopped ${installer.name}`;
      },
      {
        disable: {
          type: "boolean",
          description: "Keep it from starting again at login/boot until the next start",
        },
      },
    ),
    lifecycleCommand(host, "restart", "Restart the gateway service", async (installer) => {
      await installer.restart();
      return `Restarted ${installer.name}`;
    }),
  ];
}
