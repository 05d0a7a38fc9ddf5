/**
 * `openclaw status` (one-screen overview: gateway, service, config, cluster, channels) and
 * `openclaw channels status` (live channel state, or a config-only summary when the gateway is down).
 *
 * @module
 */
import { homedir } from "node:os";
import { capabilityLabel } from "../../../lib/client/capability.ts";
import { GatewayClientError } from "../../../lib/client/errors.ts";
import { stringFlag } from "../../cli/args.ts";
import { defineCommand } from "../../cli/define-command.ts";
import { EXIT } from "../../cli/errors.ts";
import { resolveHome } from "../../cli/profile-paths.ts";
import type { CliContext, RunnerCommand } from "../../command.ts";
import { clusterLine, type ClusterView, readCluster } from "./cluster.ts";
import type { CliConfigReport } from "./config.ts";
import { openConnection, type ProbeOutcome, probeTarget } from "./connect.ts";
import type { OpsHost } from "./host.ts";
import { otherGatewayHints, otherProfileGateways } from "./other-gateways.ts";
import { healthChannels } from "./rpc-commands.ts";
import { inspectService, type ServiceSnapshot } from "./service.ts";
import { CONNECTION_FLAGS, printJson, type QuerySetup, querySetup } from "./shared.ts";
import type { GatewayTarget } from "./target.ts";

/** Channels named in the config (`channels.<id>`), for when no gateway can be asked. */
export function configuredChannels(config: CliConfigReport): { id: string; enabled: boolean }[] {
  const channels = (config.raw?.channels ?? {}) as Record<string, unknown>;
  return Object.entries(channels)
    .filter(([, value]) => value && typeof value === "object")
    .map(([id, value]) => ({ id, enabled: (value as { enabled?: unknown }).enabled !== false }));
}

/**
 * Live channel status: `channels.status` when the gateway has it, else the channels block of `health`.
 * Throws the client error when the gateway cannot be reached.
 */
async function liveChannels(
  host: OpsHost,
  target: GatewayTarget,
  timeoutMs: number,
  probe: boolean,
): Promise<{ source: "channels.status" | "health"; payload: Record<string, unknown> }> {
  const connection = await openConnection(host, target, timeoutMs);
  try {
    if (connection.hello.features.methods.includes("channels.status")) {
      const payload = await connection.request<Record<string, unknown>>("channels.status", {
        probe,
        timeoutMs,
      }, { timeoutMs });
      return { source: "channels.status", payload };
    }
    return {
      source: "health",
      payload: await connection.request<Record<string, unknown>>("health", { probe }, { timeoutMs }),
    };
  } finally {
    connection.close();
  }
}

function channelsStatusCommand(host: OpsHost): RunnerCommand {
  return defineCommand({
    path: ["channels", "status"],
    summary: "Show channel status (live from the gateway, or from the config when it is down)",
    flags: {
      ...CONNECTION_FLAGS,
      probe: { type: "boolean", description: "Run live per-account probes" },
      channel: { type: "string", valueName: "<name>", description: "Only this channel" },
    },
    async run({ flags }, ctx) {
      const setup = await querySetup(flags, ctx);
      const only = stringFlag(flags, "channel");
      const target = setup.gateway.targets[0];
      let live;
      try {
        live = await liveChannels(host, target, setup.timeoutMs, flags.probe === true);
      } catch (err) {
        if (!(err instanceof GatewayClientError) || err.kind === "auth" || err.kind === "rpc") throw err;
        const channels = configuredChannels(setup.config).filter((c) => !only || c.id === only);
        if (setup.json) {
          printJson(ctx, {
            ok: false,
            source: "config",
            gatewayReachable: false,
            error: err.message,
            channels,
          });
          return EXIT.ok;
        }
        ctx.output.out([
          `Gateway not reachable (${err.message}); showing the config only.`,
          ...(channels.length
            ? channels.map((c) => `- ${c.id}: configured${c.enabled ? "" : " (disabled)"}`)
            : ["No channels configured."]),
        ].join("\n"));
        return EXIT.ok;
      }
      const rows = healthChannels(live.payload).filter((c) => !only || c.id === only);
      if (setup.json) {
        printJson(ctx, { ok: true, source: live.source, gatewayReachable: true, ...live.payload });
        return EXIT.ok;
      }
      ctx.output.out([
        `Gateway reachable (${target.url}).`,
        ...(rows.length ? rows.map((c) => `- ${c.label}: ${c.state}`) : ["No channels configured."]),
      ].join("\n"));
      return EXIT.ok;
    },
  });
}

/** `main → openai/gpt-4o-mini`, so a person can see which model a chat will reach. */
function agentModels(agents: unknown[]): string {
  const named = agents.map((agent) => {
    const { id, model, builtInLocalModel } = (agent ?? {}) as Record<string, unknown>;
    const label = typeof model === "string" ? model : "no model";
    return `${String(id)} → ${label}${builtInLocalModel ? " (built-in scripted model)" : ""}`;
  });
  return named.length ? named.join(", ") : "no agents";
}

function formatUptime(ms: number): string {
  const s = Math.floor(ms / 1000);
  if (s < 60) return `${s}s`;
  if (s < 3600) return `${Math.floor(s / 60)}m ${s % 60}s`;
  return `${Math.floor(s / 3600)}h ${Math.floor((s % 3600) / 60)}m`;
}

/** What `status` shows, gathered once for both the JSON and the text form. */
interface Overview {
  setup: QuerySetup;
  target: GatewayTarget;
  probe: ProbeOutcome;
  service: ServiceSnapshot;
  channels: { id: string; label: string; state: string }[];
  /** The cluster section, read as the owner (undefined when the gateway did not answer). */
  cluster: ClusterView | undefined;
}

function statusCommand(host: OpsHost): RunnerCommand {
  return defineCommand({
    path: ["status"],
    summary: "Overview: gateway reachability, service, config and channels",
    flags: {
      ...CONNECTION_FLAGS,
      deep: { type: "boolean", description: "Also run live channel probes" },
    },
    async run({ flags }, ctx) {
      const setup = await querySetup(flags, ctx);
      const overview = await gatherOverview(host, ctx, setup, flags.deep === true);
      if (setup.json) printJson(ctx, overviewJson(overview));
      else ctx.output.out(await overviewText(ctx, overview));
      return overview.probe.ok ? EXIT.ok : EXIT.failure;
    },
  });
}

async function gatherOverview(
  host: OpsHost,
  ctx: CliContext,
  setup: QuerySetup,
  deep: boolean,
): Promise<Overview> {
  const target = setup.gateway.targets[0];
  const [probe, service] = await Promise.all([
    probeTarget(host, target, { timeoutMs: setup.timeoutMs, read: true }),
    inspectService(host, ctx),
  ]);
  // Peers' hosts and the Redis URL are for admins; the read probe sees only counts, so ask as the owner.
  const cluster = probe.ok ? await readCluster(host, target, setup.timeoutMs) : undefined;
  const channelsLive = deep && probe.ok
    ? await liveChannels(host, target, setup.timeoutMs, true).catch(() => undefined)
    : undefined;
  const channels = channelsLive
    ? healthChannels(channelsLive.payload)
    : probe.health
    ? healthChannels(probe.health)
    : configuredChannels(setup.config).map((c) => ({
      id: c.id,
      label: c.id,
      state: "configured (gateway not asked)",
    }));
  return { setup, target, probe, service, channels, cluster };
}

function overviewJson(
  { setup, target, probe, service, channels, cluster }: Overview,
): Record<string, unknown> {
  const status = probe.status ?? {};
  const state = service.state;
  return {
    gateway: {
      url: target.url,
      reachable: probe.ok,
      ...(probe.connectMs !== undefined ? { connectMs: probe.connectMs } : {}),
      capability: probe.capability,
      ...(probe.hello ? { version: probe.hello.server.version, uptimeMs: status.uptimeMs } : {}),
      ...(probe.error ? { error: probe.error } : {}),
    },
    service: service.installer
      ? {
        kind: service.installer.kind,
        label: service.installer.name,
        installed: state?.installed ?? false,
        runtime: state?.runtime ?? "unknown",
      }
      : { label: "no supported service manager detected", installed: false, runtime: "unknown" },
    config: {
      path: setup.config.path,
      exists: setup.config.exists,
      valid: setup.config.valid,
      issues: setup.config.issues,
    },
    dashboard: `http://127.0.0.1:${setup.gateway.port}/`,
    health: probe.health ?? null,
    status: probe.status ?? null,
    cluster: cluster ?? null,
    channels,
  };
}

async function overviewText(ctx: CliContext, overview: Overview): Promise<string> {
  const { setup, probe } = overview;
  const rows = overviewRows(overview);
  const width = Math.max(...rows.map(([k]) => k.length));
  const lines = ["OpenClaw status", "", ...rows.map(([k, v]) => `${k.padEnd(width)}  ${v}`)];
  if (!setup.config.valid) {
    lines.push(
      "",
      "Config problems:",
      ...setup.config.issues.map((i) => `- ${i}`),
    );
  }
  // An auth failure already carries its one hint (which credential to check).
  if (!probe.ok && probe.error?.kind !== "auth") {
    const elsewhere = otherGatewayHints(
      await otherProfileGateways(resolveHome(ctx.env, homedir()), ctx.paths.stateDir),
      "status",
    );
    lines.push(
      "",
      ...(elsewhere.length
        ? elsewhere
        : ["Next: `openclaw gateway status` for details, `openclaw doctor` to check the setup."]),
    );
  }
  return lines.join("\n");
}

function overviewRows({ setup, target, probe, service, channels, cluster }: Overview): [string, string][] {
  const status = probe.status ?? {};
  const state = service.state;
  return [
    [
      "Gateway",
      probe.ok
        ? `${target.url} · reachable (${probe.connectMs}ms) · ${
          capabilityLabel(probe.capability)
        } · version ${probe.hello?.server.version}` +
          (typeof status.uptimeMs === "number" ? ` · up ${formatUptime(status.uptimeMs)}` : "")
        : probe.error?.kind === "auth"
        ? `${target.url} · ${probe.error.message.replace(/^gateway /, "")}`
        : `${target.url} · unreachable: ${probe.error?.message}`,
    ],
    [
      "Service",
      service.installer
        ? `${service.installer.kind} ${service.installer.name} · ${
          state?.installed
            ? `installed · ${state.runtime}${state.pid ? ` (pid ${state.pid})` : ""}`
            : "not installed"
        }`
        : `none (${service.reason})`,
    ],
    [
      "Config",
      `${setup.config.path}${
        setup.config.exists ? (setup.config.valid ? "" : " (invalid)") : " (missing, defaults)"
      }`,
    ],
    ["Dashboard", `http://127.0.0.1:${setup.gateway.port}/`],
    ...(cluster ? [["Cluster", clusterLine(cluster)] as [string, string]] : []),
    ["Auth", typeof status.authMode === "string" ? status.authMode : "unknown"],
    ...(Array.isArray(status.agents) ? [["Models", agentModels(status.agents)] as [string, string]] : []),
    [
      "Channels",
      channels.length ? channels.map((c) => `${c.label}: ${c.state}`).join(", ") : "none configured",
    ],
  ];
}

/** `status` and `channels status`. */
export function statusCommands(host: OpsHost): RunnerCommand[] {
  return [statusCommand(host), channelsStatusCommand(host)];
}
