/**
 * Where each `openclaw` command lives. Imports are dynamic with literal specifiers, so a command's
 * module (and everything it pulls in) loads only when that command runs, and `deno compile` still
 * sees and bundles every module.
 *
 * @module
 */
import type { GatewayRunHost } from "../commands/gateway-run.ts";
import type { OpsHost } from "../commands/ops/host.ts";
import { CommandCatalog } from "./lazy-commands.ts";

/**
 * The catalog of every command (the CLI's one command list), given the host seams `gateway run` needs and
 * the operator commands' host (the Deno process's unless given; tests pass a fake).
 */
export function commandCatalog(host: GatewayRunHost, opsHost?: OpsHost): CommandCatalog {
  let loadedOpsHost: Promise<OpsHost> | undefined;
  const ops = () =>
    loadedOpsHost ??= opsHost
      ? Promise.resolve(opsHost)
      : import("../commands/ops/host.ts").then((m) => m.denoOpsHost());
  return new CommandCatalog([
    {
      paths: [["gateway"], ["gateway", "run"]],
      load: async () => (await import("../commands/gateway-run.ts")).gatewayRunCommands(host),
    },
    { paths: [["setup"]], load: async () => [(await import("../commands/setup.ts")).setupCommand] },
    {
      paths: [["config", "get"], ["config", "set"], ["config", "unset"], ["config", "file"], [
        "config",
        "validate",
      ]],
      load: async () => (await import("../commands/config.ts")).configCommands,
    },
    {
      paths: [["secrets", "reload"]],
      load: async () => [(await import("../commands/secrets.ts")).secretsReloadCommand(await ops())],
    },
    { paths: [["logs"]], load: async () => [(await import("../commands/logs.ts")).logsCommand(await ops())] },
    {
      paths: [["gateway", "status"]],
      load:
        async () => [(await import("../commands/ops/gateway-status.ts")).gatewayStatusCommand(await ops())],
    },
    {
      paths: [["gateway", "probe"]],
      load: async () => [(await import("../commands/ops/gateway-probe.ts")).gatewayProbeCommand(await ops())],
    },
    {
      paths: [["gateway", "call"], ["health"], ["gateway", "health"]],
      load: async () => (await import("../commands/ops/rpc-commands.ts")).rpcCommands(await ops()),
    },
    {
      paths: ["install", "uninstall", "start", "stop", "restart"].map((name) => ["gateway", name]),
      load: async () => (await import("../commands/ops/service-commands.ts")).serviceCommands(await ops()),
    },
    {
      paths: [["status"], ["channels", "status"]],
      load: async () => (await import("../commands/ops/status-commands.ts")).statusCommands(await ops()),
    },
    {
      paths: [["pairing", "list"], ["pairing", "approve"]],
      load: async () => (await import("../commands/pairing.ts")).pairingCommands,
    },
    {
      paths: ["cron", "automations"].flatMap((name) =>
        ["list", "add", "create", "rm", "run"].map((verb) => [name, verb])
      ),
      load: async () => (await import("../commands/ops/cron-commands.ts")).cronCommands(await ops()),
    },
    {
      paths: ["list", "approve", "reject", "remove", "rotate", "revoke"].map((name) => ["devices", name]),
      load: async () => (await import("../commands/ops/devices.ts")).devicesCommands(await ops()),
    },
    {
      paths: [["doctor"]],
      load: async () => [(await import("../commands/ops/doctor.ts")).doctorCommand(await ops())],
    },
  ]);
}
