/**
 * `openclaw devices list|approve|reject|remove|rotate|revoke`: device pairing requests and device tokens
 * on the running gateway, over its WebSocket, printed as the reference CLI prints them.
 *
 * @module
 */
import { defineCommand } from "../../cli/define-command.ts";
import { CliError, EXIT } from "../../cli/errors.ts";
import { renderTable } from "../../cli/table.ts";
import type { CliContext, RunnerCommand } from "../../command.ts";
import type { OpsHost } from "./host.ts";
import { callGateway } from "./rpc-commands.ts";
import { CONNECTION_FLAGS, PORT_FLAG, printJson } from "./shared.ts";
import type { FlagValues } from "../../cli/args.ts";

interface PendingRequest {
  requestId: string;
  deviceId: string;
  displayName?: string;
  role?: string;
  scopes?: string[];
  remoteIp?: string;
  isRepair?: boolean;
  ts?: number;
}

interface PairedRow {
  deviceId: string;
  displayName?: string;
  clientId?: string;
  publicKey?: string;
  roles?: string[];
  scopes?: string[];
  remoteIp?: string;
  tokens?: { role: string; revokedAtMs?: number }[];
}

interface PairingList {
  pending: PendingRequest[];
  paired: PairedRow[];
}

const PAIRING_SCOPES = ["operator.pairing"];

function ago(ms: number): string {
  const minutes = Math.round(Math.round(ms / 1000) / 60);
  if (minutes < 1) return "just now";
  if (minutes < 60) return `${minutes}m ago`;
  const hours = Math.round(minutes / 60);
  return hours < 48 ? `${hours}h ago` : `${Math.round(hours / 24)}d ago`;
}

function access(roles: readonly string[], scopes: readonly string[]): string {
  return `roles: ${roles.length ? roles.join(", ") : "none"}; scopes: ${
    scopes.length ? scopes.join(", ") : "none"
  }`;
}

/** What a pending request asks for next to what the device already holds, as the reference classifies it. */
function approvalState(request: PendingRequest, paired: PairedRow | undefined) {
  const requested = { roles: request.role ? [request.role] : [], scopes: [...request.scopes ?? []].sort() };
  if (!paired) return { kind: "new pairing", requested, approved: undefined };
  const live = (paired.tokens ?? []).filter((t) => !t.revokedAtMs).map((t) => t.role);
  const approved = {
    roles: (paired.roles ?? []).filter((r) => live.includes(r)).sort(),
    scopes: paired.scopes ?? [],
  };
  const kind = !requested.roles.every((r) => approved.roles.includes(r))
    ? "role upgrade"
    : !requested.scopes.every((s) => approved.scopes.includes(s))
    ? "scope upgrade"
    : "re-approval";
  return { kind, requested, approved };
}

function printList(ctx: CliContext, list: PairingList, now: number): void {
  const byId = new Map(list.paired.map((d) => [d.deviceId, d]));
  if (list.pending.length) {
    ctx.output.out(`Pending (${list.pending.length})`);
    ctx.output.out(renderTable(
      [
        { key: "Request", header: "Request", minWidth: 10 },
        { key: "Device", header: "Device", minWidth: 16, flex: true },
        { key: "Requested", header: "Requested", minWidth: 20, flex: true },
        { key: "Approved", header: "Approved", minWidth: 20, flex: true },
        { key: "Age", header: "Age", minWidth: 8 },
        { key: "Status", header: "Status", minWidth: 12 },
      ],
      list.pending.map((request) => {
        const state = approvalState(request, byId.get(request.deviceId));
        return {
          Request: request.requestId,
          Device: `${request.displayName ?? request.deviceId}${
            request.remoteIp ? ` · ${request.remoteIp}` : ""
          }`,
          Requested: access(state.requested.roles, state.requested.scopes),
          Approved: state.approved ? access(state.approved.roles, state.approved.scopes) : "none",
          Age: typeof request.ts === "number" ? ago(now - request.ts) : "",
          Status: [state.kind, ...(request.isRepair ? ["repair"] : [])].join(", "),
        };
      }),
    ));
  }
  if (list.paired.length) {
    const rows = list.paired.map((device) => ({
      Device: device.displayName || device.clientId || device.deviceId,
      "Device ID": device.deviceId,
      Roles: (device.roles ?? []).join(", "),
      Scopes: (device.scopes ?? []).join(", "),
      Tokens: device.tokens?.length
        ? device.tokens.map((t) => `${t.role}${t.revokedAtMs ? " (revoked)" : ""}`).sort().join(", ")
        : "none",
      IP: device.remoteIp ?? "",
    }));
    ctx.output.out(`Paired (${list.paired.length})`);
    ctx.output.out(renderTable(
      ["Device", "Device ID", "Roles", "Scopes", "Tokens"].map((key) => ({
        key,
        header: key,
        minWidth: 12,
        flex: true,
      }))
        .concat({ key: "IP", header: "IP", minWidth: 12, flex: false }),
      rows,
    ));
    ctx.output.out("Full device IDs");
    for (const row of rows) ctx.output.out(`  ${row["Device ID"]}  ${row.Device}`);
  }
  if (!list.pending.length && !list.paired.length) ctx.output.out("No device pairing entries.");
}

function listCommand(host: OpsHost): RunnerCommand {
  return defineCommand({
    path: ["devices", "list"],
    summary: "List pending pairing requests and paired devices",
    flags: { ...CONNECTION_FLAGS, ...PORT_FLAG },
    async run({ flags }, ctx) {
      const list = await callGateway<PairingList>(host, ctx, flags, "device.pair.list", {}, PAIRING_SCOPES);
      if (flags.json === true) printJson(ctx, list);
      else printList(ctx, list, Date.now());
      return EXIT.ok;
    },
  });
}

/** `--latest` or no id: shows the newest request and the exact command, approves nothing (exit 1). */
function previewLatest(ctx: CliContext, flags: FlagValues, list: PairingList): number {
  const latest = list.pending.reduce<PendingRequest | undefined>(
    (best, r) => (!best || (r.ts ?? 0) > (best.ts ?? 0) ? r : best),
    undefined,
  );
  if (!latest) {
    ctx.output.err("No pending device pairing requests to approve");
    return EXIT.failure;
  }
  const state = approvalState(latest, list.paired.find((d) => d.deviceId === latest.deviceId));
  const command = `openclaw devices approve ${latest.requestId}`;
  if (flags.json === true) {
    printJson(ctx, { selected: latest, approvalState: state, approveCommand: command });
    return EXIT.failure;
  }
  ctx.output.out(`Selected pending device request ${latest.requestId}`);
  ctx.output.out(`  Device: ${latest.displayName ?? latest.deviceId}`);
  ctx.output.out(`  Requested: ${access(state.requested.roles, state.requested.scopes)}`);
  if (state.approved) ctx.output.out(`  Approved: ${access(state.approved.roles, state.approved.scopes)}`);
  if (latest.remoteIp) ctx.output.out(`  IP:     ${latest.remoteIp}`);
  ctx.output.out(`  Note:   ${NOTES[state.kind]}`);
  ctx.output.err(`Approve this exact request with: ${command}`);
  return EXIT.failure;
}

const NOTES: Record<string, string> = {
  "new pairing": "First-time device pairing request.",
  "scope upgrade":
    "Already paired. Requested scopes exceed the current approval, so reconnect stays blocked until you approve this upgrade.",
  "role upgrade":
    "Already paired. Requested role exceeds the current approval, so reconnect stays blocked until you approve this upgrade.",
  "re-approval":
    "Already paired. Approval-bound device details changed, so OpenClaw created a fresh request instead of silently reusing the old approval.",
};

function approveCommand(host: OpsHost): RunnerCommand {
  return defineCommand({
    path: ["devices", "approve"],
    summary: "Approve a pending device pairing request",
    usage: "[requestId]",
    flags: {
      ...CONNECTION_FLAGS,
      ...PORT_FLAG,
      latest: { type: "boolean", description: "Preview the newest pending request" },
    },
    async run({ flags, positionals }, ctx) {
      const requestId = positionals[0]?.trim();
      if (!requestId || flags.latest === true) {
        const list = await callGateway<PairingList>(host, ctx, flags, "device.pair.list", {}, PAIRING_SCOPES);
        return previewLatest(ctx, flags, list);
      }
      let result: { requestId: string; device?: { deviceId?: string } };
      try {
        result = await callGateway(host, ctx, flags, "device.pair.approve", { requestId });
      } catch (error) {
        if (!(error instanceof CliError) || !/unknown requestId/.test(error.message)) throw error;
        throw new CliError(
          `No pending device request matches ${requestId}. Run openclaw devices list and retry with the current request ID.`,
        );
      }
      if (flags.json === true) printJson(ctx, result);
      else ctx.output.out(`Approved ${result.device?.deviceId ?? "ok"} (${result.requestId ?? requestId})`);
      return EXIT.ok;
    },
  });
}

function rejectCommand(host: OpsHost): RunnerCommand {
  return defineCommand({
    path: ["devices", "reject"],
    summary: "Reject a pending device pairing request",
    usage: "<requestId>",
    flags: { ...CONNECTION_FLAGS, ...PORT_FLAG },
    async run({ flags, positionals }, ctx) {
      const requestId = positionals[0]?.trim();
      if (!requestId) {
        throw new CliError("requestId is required. Run openclaw devices list to choose a pending request.");
      }
      const result = await callGateway<{ deviceId?: string }>(
        host,
        ctx,
        flags,
        "device.pair.reject",
        { requestId },
        PAIRING_SCOPES,
      );
      if (flags.json === true) printJson(ctx, result);
      else ctx.output.out(`Rejected ${result.deviceId ?? "ok"}`);
      return EXIT.ok;
    },
  });
}

function removeCommand(host: OpsHost): RunnerCommand {
  return defineCommand({
    path: ["devices", "remove"],
    summary: "Remove a paired device",
    usage: "<deviceId>",
    flags: { ...CONNECTION_FLAGS, ...PORT_FLAG },
    async run({ flags, positionals }, ctx) {
      const deviceId = positionals[0]?.trim();
      if (!deviceId) {
        throw new CliError("deviceId is required. Run openclaw devices list to choose a paired device.");
      }
      const result = await callGateway(host, ctx, flags, "device.pair.remove", { deviceId });
      if (flags.json === true) printJson(ctx, result);
      else ctx.output.out(`Removed ${deviceId}`);
      return EXIT.ok;
    },
  });
}

const DEVICE_ROLE_FLAGS = {
  device: { type: "string", valueName: "<id>", description: "Paired device id" },
  role: { type: "string", valueName: "<role>", description: "Token role (operator, node)" },
} as const;

function deviceRole(flags: FlagValues): { deviceId: string; role: string } {
  const deviceId = typeof flags.device === "string" ? flags.device.trim() : "";
  const role = typeof flags.role === "string" ? flags.role.trim() : "";
  if (!deviceId || !role) {
    throw new CliError(
      "--device and --role are required. Run openclaw devices list to choose a paired device.",
    );
  }
  return { deviceId, role };
}

function tokenCommands(host: OpsHost): RunnerCommand[] {
  const rotate = defineCommand({
    path: ["devices", "rotate"],
    summary: "Rotate a device token for a role",
    flags: {
      ...CONNECTION_FLAGS,
      ...PORT_FLAG,
      ...DEVICE_ROLE_FLAGS,
      scope: { type: "string", valueName: "<scope>", multiple: true, description: "Scope of the new token" },
      "no-scopes": { type: "boolean", description: "Rotate to an empty scope set" },
    },
    async run({ flags }, ctx) {
      const scopes = flags["no-scopes"] === true ? [] : Array.isArray(flags.scope) ? flags.scope : undefined;
      if (flags["no-scopes"] === true && flags.scope !== undefined) {
        throw new CliError("--no-scopes cannot be combined with --scope", EXIT.usage);
      }
      const params = { ...deviceRole(flags), ...(scopes ? { scopes } : {}) };
      printJson(ctx, await callGateway(host, ctx, flags, "device.token.rotate", params));
      return EXIT.ok;
    },
  });
  const revoke = defineCommand({
    path: ["devices", "revoke"],
    summary: "Revoke a device token for a role",
    flags: { ...CONNECTION_FLAGS, ...PORT_FLAG, ...DEVICE_ROLE_FLAGS },
    async run({ flags }, ctx) {
      printJson(ctx, await callGateway(host, ctx, flags, "device.token.revoke", deviceRole(flags)));
      return EXIT.ok;
    },
  });
  return [rotate, revoke];
}

/** The `devices` commands. */
export function devicesCommands(host: OpsHost): RunnerCommand[] {
  return [
    listCommand(host),
    approveCommand(host),
    rejectCommand(host),
    removeCommand(host),
    ...tokenCommands(host),
  ];
}
