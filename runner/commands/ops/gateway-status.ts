/**
 * `openclaw gateway status`: the service as the init system sees it, the config paths the CLI and the
 * service use, where the gateway should be listening, and a connectivity probe.
 *
 * @module
 */
import { homedir } from "node:os";
import { capabilityLabel } from "../../../lib/client/capability.ts";
import { scanGatewayServices } from "../../../lib/service/scan.ts";
import { recordedPort } from "../../../lib/service/spec.ts";
import { GATEWAY_VERSION } from "../../../lib/version.ts";
import { CliError, EXIT } from "../../cli/errors.ts";
import { defineCommand } from "../../cli/define-command.ts";
import { resolveHome } from "../../cli/profile-paths.ts";
import type { CliContext, RunnerCommand } from "../../command.ts";
import { readCliConfig } from "./config.ts";
import { type ProbeOutcome, probeTarget } from "./connect.ts";
import type { OpsHost } from "./host.ts";
import { otherGatewayHints, otherProfileGateways } from "./other-gateways.ts";
import {
  auditService,
  inspectService,
  installerHost,
  redactEnvironment,
  type ServiceSnapshot,
} from "./service.ts";
import { CONNECTION_FLAGS, PORT_FLAG, printJson, querySetup } from "./shared.ts";
import { resolvePort } from "./target.ts";

/** The `rpc` block of `gateway status --json`. */
export function rpcJson(probe: ProbeOutcome | undefined, authWarning?: string): Record<string, unknown> {
  if (!probe) return { ok: false, kind: "skipped" };
  const rpc: Record<string, unknown> = {
    ok: probe.ok,
    kind: probe.rpcOk ? "read" : "connect",
    url: probe.target.url,
    capability: probe.capability,
  };
  if (probe.ok && probe.hello) {
    rpc.connectMs = probe.connectMs;
    rpc.auth = { role: probe.hello.auth.role, scopes: probe.hello.auth.scopes, capability: probe.capability };
    rpc.server = probe.hello.server;
    rpc.version = probe.hello.server.version;
    rpc.readOk = probe.rpcOk;
    if (probe.readError) rpc.readError = probe.readError;
  }
  if (probe.error) rpc.error = probe.error;
  if (authWarning && !probe.ok) rpc.authWarning = authWarning;
  return rpc;
}

function serviceJson(
  service: ServiceSnapshot,
  issues: { code: string; message: string }[],
): Record<string, unknown> {
  if (!service.installer || !service.state) {
    return {
      label: service.installer?.name ?? "no supported service manager detected",
      loaded: false,
      loadState: { status: "not-loaded" },
      runtime: { status: "unknown", detail: service.reason },
      inspectionReason: service.installer
        ? "service-runtime-inspection-failed"
        : "service-manager-unavailable",
      command: null,
      configAudit: { ok: true, issues: [] },
    };
  }
  const { installer, state, installed } = service;
  return {
    kind: installer.kind,
    label: installer.name,
    definitionPath: installer.definitionPath,
    installed: state.installed,
    loaded: state.loaded,
    loadState: { status: state.loaded ? "loaded" : "not-loaded" },
    runtime: {
      status: state.runtime,
      ...(state.pid ? { pid: state.pid } : {}),
      ...(state.detail ? { detail: state.detail } : {}),
    },
    logs: installer.logs,
    command: installed
      ? {
        programArguments: installed.programArguments,
        environment: redactEnvironment(installed.environment),
        sourcePath: installed.path,
        port: recordedPort(installed.programArguments) ?? null,
      }
      : null,
    configAudit: { ok: issues.length === 0, issues },
  };
}

function describeConfig(report: { path: string; exists: boolean; valid: boolean }): string {
  return `${report.path}${!report.exists ? " (missing)" : report.valid ? "" : " (invalid)"}`;
}

/** Builds `gateway status`. */
export function gatewayStatusCommand(host: OpsHost): RunnerCommand {
  return defineCommand({
    path: ["gateway", "status"],
    summary: "Show the gateway service, its config and whether the gateway answers",
    flags: {
      ...CONNECTION_FLAGS,
      ...PORT_FLAG,
      "no-probe": { type: "boolean", description: "Skip the connectivity probe (service-only view)" },
      deep: { type: "boolean", description: "Also scan for other gateway-like services on this host" },
      "require-rpc": { type: "boolean", description: "Exit non-zero unless read-scope RPC calls answer" },
    },
    async run({ flags }, ctx: CliContext) {
      const noProbe = flags["no-probe"] === true;
      const requireRpc = flags["require-rpc"] === true;
      if (noProbe && requireRpc) {
        throw new CliError("--require-rpc cannot be combined with --no-probe", EXIT.usage);
      }
      const setup = await querySetup(flags, ctx, { probeAll: true });
      const { gateway, config } = setup;
      const primary = gateway.targets[0];
      const [service, probe, portBusy] = await Promise.all([
        inspectService(host, ctx),
        noProbe ? undefined : probeTarget(host, primary, { timeoutMs: setup.timeoutMs, read: requireRpc }),
        host.portInUse(gateway.port).catch(() => undefined),
      ]);
      const servicePath = service.installed?.environment.OPENCLAW_CONFIG_PATH ?? ctx.paths.configPath;
      const serviceConfig = servicePath === config.path ? config : await readCliConfig(servicePath, ctx.env);
      const issues = service.installed
        ? auditService(service.installed, {
          port: resolvePort(undefined, ctx.env, config.config, ctx.dev).port,
          configPath: ctx.paths.configPath,
          stateDir: ctx.paths.stateDir,
        })
        : [];
      const extra = flags.deep === true && service.installer
        ? await scanGatewayServices(installerHost(host, ctx), service.installer.name).catch(() => [])
        : [];
      const httpUrl = `http://${
        gateway.bindHost === "0.0.0.0" ? "127.0.0.1" : gateway.bindHost
      }:${gateway.port}/`;
      const probeNote = gateway.bindMode === "loopback"
        ? "Loopback-only gateway; only local clients can connect."
        : `Gateway binds ${gateway.bindHost}; remote clients need the token or password.`;
      const failed = probe !== undefined && (!probe.ok || (requireRpc && !probe.rpcOk));

      if (setup.json) {
        printJson(ctx, {
          cli: { version: GATEWAY_VERSION, entrypoint: host.launcher().join(" ") },
          logFile: service.installer?.logs ?? null,
          service: serviceJson(service, issues),
          config: {
            cli: { path: config.path, exists: config.exists, valid: config.valid, issues: config.issues },
            daemon: { path: serviceConfig.path, exists: serviceConfig.exists, valid: serviceConfig.valid },
          },
          gateway: {
            bindMode: gateway.bindMode,
            bindHost: gateway.bindHost,
            port: gateway.port,
            portSource: gateway.portSource,
            probeUrl: primary.url,
            controlUiLinks: { httpUrl, wsUrl: `ws://127.0.0.1:${gateway.port}` },
            probeNote,
            ...(probe?.hello ? { version: probe.hello.server.version } : {}),
          },
          port: {
            port: gateway.port,
            status: portBusy === undefined ? "unknown" : portBusy ? "busy" : "free",
          },
          rpc: rpcJson(probe, gateway.authWarning),
          extraServices: extra,
        });
        return failed ? EXIT.failure : EXIT.ok;
      }

      const lines: string[] = [];
      const state = service.state;
      lines.push(
        service.installer
          ? `Service: ${service.installer.kind} ${service.installer.name} (${
            state?.installed ? "installed" : "not installed"
          })`
          : `Service: no supported service manager (${service.reason})`,
      );
      if (service.installer) lines.push(`Service logs: ${service.installer.logs}`);
      lines.push(
        "",
        `Config (cli): ${describeConfig(config)}`,
        `Config (service): ${describeConfig(serviceConfig)}`,
      );
      for (const issue of config.issues) lines.push(`  ${issue}`);
      lines.push(
        "",
        `Gateway: bind=${gateway.bindMode} (${gateway.bindHost}), port=${gateway.port} (${gateway.portSource})`,
        `Probe target: ${primary.url}`,
        `Dashboard: ${httpUrl}`,
        `Probe note: ${probeNote}`,
        "",
        `CLI version: ${GATEWAY_VERSION}`,
      );
      if (probe?.hello) lines.push(`Gateway version: ${probe.hello.server.version}`);
      lines.push("");
      const runtime = state
        ? `${state.runtime}${state.pid ? ` (pid ${state.pid})` : ""}${
          state.detail ? `, ${state.detail}` : ""
        }`
        : "unknown";
      lines.push(`Runtime: ${runtime}`);
      if (probe) {
        lines.push(
          `Connectivity probe: ${
            probe.ok ? `ok (${probe.connectMs}ms)` : `failed - ${probe.error?.message}`
          }`,
        );
        if (probe.ok) lines.push(`Capability: ${capabilityLabel(probe.capability)}`);
        if (requireRpc) lines.push(`Read probe: ${probe.rpcOk ? "ok" : `failed - ${probe.readError}`}`);
        if (!probe.ok && gateway.authWarning) lines.push(`Auth warning: ${gateway.authWarning}`);
      } else {
        lines.push("Connectivity probe: skipped (--no-probe)");
      }
      if (portBusy !== undefined) lines.push(`Port ${gateway.port}: ${portBusy ? "in use" : "free"}`);
      for (const issue of issues) lines.push(`Service config: ${issue.message}`);
      if (extra.length) {
        lines.push("", "Other gateway-like services detected (best effort):");
        for (const found of extra) {
          lines.push(`- ${found.kind} ${found.scope} ${found.name}${found.path ? ` (${found.path})` : ""}`);
        }
        lines.push("Usually one gateway per machine is enough; remove the ones you no longer use.");
      }
      if (failed) {
        const elsewhere = probe?.error?.kind === "auth" ? [] : otherGatewayHints(
          await otherProfileGateways(resolveHome(ctx.env, homedir()), ctx.paths.stateDir),
          "gateway status",
        );
        lines.push(
          "",
          probe?.error?.kind === "auth"
            ? "Next: pass the right --token/--password, or check gateway.auth in the config."
            : elsewhere.length
            ? elsewhere.join("\n")
            : "Next: start it with `openclaw gateway start` (service) or `openclaw gateway run`, then `openclaw doctor`.",
        );
      }
      ctx.output.out(lines.join("\n"));
      return failed ? EXIT.failure : EXIT.ok;
    },
  });
}
