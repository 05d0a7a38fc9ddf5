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
import { clusterLine, type ClusterView, readCluster } from "./cluster.ts";
import { type CliConfigReport, readCliConfig } from "./config.ts";
import { type ProbeOutcome, probeTarget } from "./connect.ts";
import type { OpsHost } from "./host.ts";
import { otherGatewayHints, otherProfileGateways } from "./other-gateways.ts";
import {
  type AuditIssue,
  auditService,
  inspectService,
  installerHost,
  redactEnvironment,
  type ServiceSnapshot,
} from "./service.ts";
import { CONNECTION_FLAGS, PORT_FLAG, printJson, type QuerySetup, querySetup } from "./shared.ts";
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

/** Everything `gateway status` reports, gathered once for both the JSON and the text form. */
interface StatusFacts {
  setup: QuerySetup;
  service: ServiceSnapshot;
  serviceConfig: CliConfigReport;
  issues: AuditIssue[];
  probe: ProbeOutcome | undefined;
  portBusy: boolean | undefined;
  extra: Awaited<ReturnType<typeof scanGatewayServices>>;
  requireRpc: boolean;
  httpUrl: string;
  probeNote: string;
  failed: boolean;
  /** The gateway's cluster section, when it answered. */
  cluster: ClusterView | undefined;
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
      const facts = await gatherStatus(host, ctx, setup, { noProbe, requireRpc, deep: flags.deep === true });
      if (setup.json) printJson(ctx, statusJson(host, facts));
      else ctx.output.out(await statusText(ctx, facts));
      return facts.failed ? EXIT.failure : EXIT.ok;
    },
  });
}

async function gatherStatus(
  host: OpsHost,
  ctx: CliContext,
  setup: QuerySetup,
  { noProbe, requireRpc, deep }: { noProbe: boolean; requireRpc: boolean; deep: boolean },
): Promise<StatusFacts> {
  const { gateway, config } = setup;
  const [service, probe, portBusy] = await Promise.all([
    inspectService(host, ctx),
    // As the reference: a plain status probes as `probe` (no scopes without a device identity), while
    // --require-rpc calls `status` as the CLI, which keeps its read scope on loopback.
    noProbe ? undefined : probeTarget(host, gateway.targets[0], {
      timeoutMs: setup.timeoutMs,
      read: requireRpc,
      mode: requireRpc ? "cli" : "probe",
    }),
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
  const extra = deep && service.installer
    ? await scanGatewayServices(installerHost(host, ctx), service.installer.name).catch(() => [])
    : [];
  const httpUrl = `http://${
    gateway.bindHost === "0.0.0.0" ? "127.0.0.1" : gateway.bindHost
  }:${gateway.port}/`;
  const probeNote = gateway.bindMode === "loopback"
    ? "Loopback-only gateway; only local clients can connect."
    : `Gateway binds ${gateway.bindHost}; remote clients need the token or password.`;
  const failed = probe !== undefined && (!probe.ok || (requireRpc && !probe.rpcOk));
  // The connect probe reads nothing unless asked to (--require-rpc); the cluster view costs one call more.
  // Peers' hosts and the Redis URL are for admins: the cluster view is read as the owner, one call more.
  const cluster = probe?.ok ? await readCluster(host, gateway.targets[0], setup.timeoutMs) : undefined;
  return {
    setup,
    service,
    serviceConfig,
    issues,
    probe,
    portBusy,
    extra,
    requireRpc,
    httpUrl,
    probeNote,
    failed,
    cluster,
  };
}

function statusJson(host: OpsHost, facts: StatusFacts): Record<string, unknown> {
  const { setup: { gateway, config }, service, serviceConfig, probe, portBusy } = facts;
  return {
    cli: { version: GATEWAY_VERSION, entrypoint: host.launcher().join(" ") },
    logFile: service.installer?.logs ?? null,
    service: serviceJson(service, facts.issues),
    config: {
      cli: { path: config.path, exists: config.exists, valid: config.valid, issues: config.issues },
      daemon: { path: serviceConfig.path, exists: serviceConfig.exists, valid: serviceConfig.valid },
    },
    gateway: {
      bindMode: gateway.bindMode,
      bindHost: gateway.bindHost,
      port: gateway.port,
      portSource: gateway.portSource,
      probeUrl: gateway.targets[0].url,
      controlUiLinks: { httpUrl: facts.httpUrl, wsUrl: `ws://127.0.0.1:${gateway.port}` },
      probeNote: facts.probeNote,
      ...(probe?.hello ? { version: probe.hello.server.version } : {}),
    },
    port: {
      port: gateway.port,
      status: portBusy === undefined ? "unknown" : portBusy ? "busy" : "free",
    },
    rpc: rpcJson(probe, gateway.authWarning),
    cluster: facts.cluster ?? null,
    extraServices: facts.extra,
  };
}

async function statusText(ctx: CliContext, facts: StatusFacts): Promise<string> {
  const { setup: { gateway, config }, service, probe } = facts;
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
    `Config (service): ${describeConfig(facts.serviceConfig)}`,
  );
  for (const issue of config.issues) lines.push(`  ${issue}`);
  lines.push(
    "",
    `Gateway: bind=${gateway.bindMode} (${gateway.bindHost}), port=${gateway.port} (${gateway.portSource})`,
    `Probe target: ${gateway.targets[0].url}`,
    `Dashboard: ${facts.httpUrl}`,
    `Probe note: ${facts.probeNote}`,
    "",
    `CLI version: ${GATEWAY_VERSION}`,
  );
  if (probe?.hello) lines.push(`Gateway version: ${probe.hello.server.version}`);
  lines.push("");
  const runtime = state
    ? `${state.runtime}${state.pid ? ` (pid ${state.pid})` : ""}${state.detail ? `, ${state.detail}` : ""}`
    : "unknown";
  lines.push(`Runtime: ${runtime}`, ...probeLines(facts));
  if (facts.cluster) lines.push(`Cluster: ${clusterLine(facts.cluster)}`);
  if (facts.portBusy !== undefined) lines.push(`Port ${gateway.port}: ${facts.portBusy ? "in use" : "free"}`);
  for (const issue of facts.issues) lines.push(`Service config: ${issue.message}`);
  if (facts.extra.length) {
    lines.push("", "Other gateway-like services detected (best effort):");
    for (const found of facts.extra) {
      lines.push(`- ${found.kind} ${found.scope} ${found.name}${found.path ? ` (${found.path})` : ""}`);
    }
    lines.push("Usually one gateway per machine is enough; remove the ones you no longer use.");
  }
  if (facts.failed) lines.push("", await nextStep(ctx, probe));
  return lines.join("\n");
}

function probeLines({ probe, requireRpc, setup: { gateway } }: StatusFacts): string[] {
  if (!probe) return ["Connectivity probe: skipped (--no-probe)"];
  const lines = [
    `Connectivity probe: ${probe.ok ? `ok (${probe.connectMs}ms)` : `failed - ${probe.error?.message}`}`,
  ];
  if (probe.ok) lines.push(`Capability: ${capabilityLabel(probe.capability)}`);
  if (requireRpc) lines.push(`Read probe: ${probe.rpcOk ? "ok" : `failed - ${probe.readError}`}`);
  if (!probe.ok && gateway.authWarning) lines.push(`Auth warning: ${gateway.authWarning}`);
  return lines;
}

/** What to do when the probe failed: fix the credentials, or start the gateway (or find it elsewhere). */
async function nextStep(ctx: CliContext, probe: ProbeOutcome | undefined): Promise<string> {
  if (probe?.error?.kind === "auth") {
    return "Next: pass the right --token/--password, or check gateway.auth in the config.";
  }
  const elsewhere = otherGatewayHints(
    await otherProfileGateways(resolveHome(ctx.env, homedir()), ctx.paths.stateDir),
    "gateway status",
  );
  return elsewhere.length
    ? elsewhere.join("\n")
    : "Next: start it with `openclaw gateway start` (service) or `openclaw gateway run`, then `openclaw doctor`.";
}
