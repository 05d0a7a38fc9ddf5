/**
 * Opens the CLI's connection to a target and runs the connect + read probe that status, probe and
 * health share.
 *
 * @module
 */
import { type Capability, capabilityOf } from "../../../lib/client/capability.ts";
import { connectGateway, type GatewayConnection } from "../../../lib/client/connection.ts";
import { GatewayClientError } from "../../../lib/client/errors.ts";
import type { HelloOk } from "../../../lib/client/frames.ts";
import { GATEWAY_VERSION } from "../../../lib/version.ts";
import type { OpsHost } from "./host.ts";
import type { GatewayTarget } from "./target.ts";

/** Read-only commands ask for read; `gateway call` asks for what an owner has. */
export const READ_SCOPES = ["operator.read"];
export const OWNER_SCOPES = [
  "operator.admin",
  "operator.approvals",
  "operator.pairing",
  "operator.read",
  "operator.write",
];

/**
 * How the CLI introduces itself: `cli` for commands (a device-less shared-secret client the gateway lets
 * keep its scopes on loopback), `probe` for reachability probes (granted no scopes without a device
 * identity, so they report what the reference's probe reports).
 */
export type CliClientMode = "cli" | "probe";

/** Connects as the CLI does (`client.id` `cli`, no device identity). */
export function openConnection(
  host: OpsHost,
  target: GatewayTarget,
  timeoutMs: number,
  scopes: string[] = READ_SCOPES,
  mode: CliClientMode = "cli",
): Promise<GatewayConnection> {
  return connectGateway({
    url: target.url,
    WebSocket: host.WebSocket,
    client: { id: "cli", mode, version: GATEWAY_VERSION, platform: host.platform },
    token: target.token,
    password: target.password,
    scopes,
    timeoutMs,
  });
}

/** What probing one target found. */
export interface ProbeOutcome {
  target: GatewayTarget;
  /** The socket connected and the handshake succeeded. */
  ok: boolean;
  connectMs?: number;
  error?: { kind: string; code: string; message: string };
  hello?: HelloOk;
  capability: Capability;
  /** The read RPCs (`health`, `status`) answered. */
  rpcOk: boolean;
  /** A read RPC was refused for a missing operator scope. */
  scopeLimited: boolean;
  readError?: string;
  health?: Record<string, unknown>;
  status?: Record<string, unknown>;
}

function describe(err: unknown): { kind: string; code: string; message: string } {
  if (err instanceof GatewayClientError) return { kind: err.kind, code: err.code, message: err.message };
  return { kind: "unknown", code: "UNKNOWN", message: err instanceof Error ? err.message : String(err) };
}

/** Connects (as `options.mode`, `cli` by default), then (with `read`) calls `health` and `status`; never throws. */
export async function probeTarget(
  host: OpsHost,
  target: GatewayTarget,
  options: { timeoutMs: number; read: boolean; mode?: CliClientMode },
): Promise<ProbeOutcome> {
  const started = host.now();
  let connection: GatewayConnection;
  try {
    connection = await openConnection(host, target, options.timeoutMs, READ_SCOPES, options.mode);
  } catch (err) {
    const error = describe(err);
    return {
      target,
      ok: false,
      error,
      capability: error.kind === "pairing" ? "pairing_pending" : "unknown",
      rpcOk: false,
      scopeLimited: false,
    };
  }
  const outcome: ProbeOutcome = {
    target,
    ok: true,
    connectMs: Math.round(host.now() - started),
    hello: connection.hello,
    capability: capabilityOf(connection.hello.auth.scopes),
    rpcOk: false,
    scopeLimited: false,
  };
  try {
    if (!options.read) return outcome;
    const [health, status] = await Promise.allSettled([
      connection.request<Record<string, unknown>>("health", {}),
      connection.request<Record<string, unknown>>("status", {}),
    ]);
    if (health.status === "fulfilled") outcome.health = health.value;
    if (status.status === "fulfilled") outcome.status = status.value;
    const failures = [health, status].flatMap((r) => (r.status === "rejected" ? [r.reason] : []));
    outcome.rpcOk = failures.length === 0;
    outcome.scopeLimited = failures.some((f) =>
      f instanceof GatewayClientError && f.details?.code === "MISSING_SCOPE"
    );
    if (failures.length) outcome.readError = describe(failures[0]).message;
    return outcome;
  } finally {
    connection.close();
  }
}

/** `Read probe: ok | limited - missing scope: operator.read | failed` */
export function readProbeLabel(outcome: ProbeOutcome): string {
  if (outcome.rpcOk) return "ok";
  if (outcome.scopeLimited) return "limited - missing scope: operator.read";
  return "failed";
}
