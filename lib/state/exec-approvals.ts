/**
 * Exec approvals every replica sees: requests waiting for an operator's decision (first answer wins),
 * resolved ones kept a while so a repeated answer can be told apart from an unknown id, and the commands
 * an `allow-always` decision trusts from then on, per agent.
 *
 * @module
 */
import { GatewayError } from "../errors.ts";

/** What an operator may answer. */
export type ApprovalDecision = "allow-once" | "allow-always" | "deny";

/** One approval request as the reference keeps it. */
export interface ExecApprovalRecord {
  /** The approval id. */
  id: string;
  /** The request as clients see it (`command`, `agentId`, `sessionKey`, `allowedDecisions`, ...). */
  request: Record<string, unknown>;
  /** When it was asked (ms since the epoch). */
  createdAtMs: number;
  /** When an unanswered request expires. */
  expiresAtMs: number;
  /** The socket that asked, when a client asked (not the gateway's own tools): only it and admins see it. */
  requestedByConnId?: string | null;
  /** The device that asked, if it proved one: only its sockets and admins see the request. */
  requestedByDeviceId?: string | null;
  /** The client address that asked, when a client asked: what {@link MAX_PENDING_APPROVALS_PER_ADDRESS} counts. */
  requestedFrom?: string;
  /** Set once answered. */
  decision?: ApprovalDecision;
  /** Who answered (the client's display name or id). */
  resolvedBy?: string | null;
  /** When it was answered. */
  resolvedAtMs?: number;
}

/** What answering did. */
export type ApprovalResolution =
  | { outcome: "resolved"; record: ExecApprovalRecord }
  /** It was answered before; `record.decision` says how. */
  | { outcome: "repeat"; record: ExecApprovalRecord }
  | { outcome: "missing" };

/** How long an answered request stays findable after it was answered or would have expired. */
export const RESOLVED_APPROVAL_RETAIN_MS = 10 * 60_000;

/**
 * How many unanswered requests clients may have waiting from one address. Each waits as long as its caller
 * keeps the call open (up to its timeout), so without a limit one client could pile up any number; 32 as
 * the reference allows 32 pending connections per source. The gateway's own requests are not counted.
 */
export const MAX_PENDING_APPROVALS_PER_ADDRESS = 32;

/** How many unanswered requests of clients may wait in all. */
export const MAX_PENDING_APPROVALS = 256;

/** Which limit refused a request: its client address's share, or the whole gateway's. */
export type ApprovalLimit = "address" | "total";

/** The error for a request refused by a limit; `retryAfterMs` is when the oldest blocking one expires. */
export function approvalLimitError(limit: ApprovalLimit, retryAfterMs: number): GatewayError {
  const where = limit === "address" ? "from this client address" : "on this gateway";
  const max = limit === "address" ? MAX_PENDING_APPROVALS_PER_ADDRESS : MAX_PENDING_APPROVALS;
  return new GatewayError(
    "UNAVAILABLE",
    `too many pending exec approval requests ${where} (${max}); wait for them to be answered or expire`,
    {
      retryable: true,
      retryAfterMs: Math.max(1, retryAfterMs),
      details: { code: "APPROVAL_REQUESTS_LIMITED", limit, max },
    },
  );
}

/**
 * Throws {@link approvalLimitError} when `record` (a client's, with `requestedFrom`) would exceed a limit,
 * given the unanswered, unexpired requests waiting at `now`.
 */
export function checkApprovalLimits(
  record: ExecApprovalRecord,
  pending: readonly ExecApprovalRecord[],
  now: number,
): void {
  if (record.requestedFrom === undefined) return;
  const clients = pending.filter((other) => other.requestedFrom !== undefined);
  const sameAddress = clients.filter((other) => other.requestedFrom === record.requestedFrom);
  const blocking = sameAddress.length >= MAX_PENDING_APPROVALS_PER_ADDRESS
    ? { limit: "address" as const, records: sameAddress }
    : clients.length >= MAX_PENDING_APPROVALS
    ? { limit: "total" as const, records: clients }
    : undefined;
  if (!blocking) return;
  throw approvalLimitError(blocking.limit, Math.min(...blocking.records.map((r) => r.expiresAtMs)) - now);
}

/** Where exec approvals live; in-process by default, shared across replicas by a network store. */
export interface ExecApprovalStore {
  /**
   * Adds a pending request; false when a live request with its id exists. Throws
   * {@link approvalLimitError} (adding nothing) when a client's request would pass a limit.
   */
  create(record: ExecApprovalRecord, now: number): Promise<boolean>;
  /** The request `id` (pending and unexpired, or answered and retained) as of `now`. */
  get(id: string, now: number): Promise<ExecApprovalRecord | undefined>;
  /** Every unanswered, unexpired request, oldest first. */
  listPending(now: number): Promise<ExecApprovalRecord[]>;
  /** Answers a pending request; of two answers only the first resolves it. */
  resolve(
    id: string,
    decision: ApprovalDecision,
    resolvedBy: string | null,
    now: number,
  ): Promise<ApprovalResolution>;
  /** Drops an unanswered request (it timed out or its run ended); true when it was still pending. */
  expire(id: string): Promise<boolean>;
  /** Trusts `command` for `agentId` from now on (`allow-always`). */
  allow(agentId: string, command: string): Promise<void>;
  /** Whether `allow` trusted `command` for `agentId`. */
  allowed(agentId: string, command: string): Promise<boolean>;
}

/** Whether `record` is still findable at `now`. */
export function approvalRetained(record: ExecApprovalRecord, now: number): boolean {
  if (record.decision === undefined) return now < record.expiresAtMs;
  return now < Math.max(record.expiresAtMs, record.resolvedAtMs! + RESOLVED_APPROVAL_RETAIN_MS);
}

/** The in-process exec approval store. */
export class MemoryExecApprovalStore implements ExecApprovalStore {
  #records = new Map<string, string>();
  #allowed = new Set<string>();

  #read(id: string, now: number): ExecApprovalRecord | undefined {
    const text = this.#records.get(id);
    const record = text === undefined ? undefined : JSON.parse(text) as ExecApprovalRecord;
    if (record && approvalRetained(record, now)) return record;
    this.#records.delete(id);
    return undefined;
  }

  create(record: ExecApprovalRecord, now: number): Promise<boolean> {
    // Records nobody reads again (answered, never listed) would otherwise stay: each create sweeps, as the
    // Redis store's does.
    const live = [...this.#records.keys()].flatMap((id) => this.#read(id, now) ?? []);
    if (this.#read(record.id, now)) return Promise.resolve(false);
    try {
      checkApprovalLimits(record, live.filter((r) => r.decision === undefined), now);
    } catch (error) {
      return Promise.reject(error);
    }
    this.#records.set(record.id, JSON.stringify(record));
    return Promise.resolve(true);
  }

  get(id: string, now: number): Promise<ExecApprovalRecord | undefined> {
    return Promise.resolve(this.#read(id, now));
  }

  listPending(now: number): Promise<ExecApprovalRecord[]> {
    const records = [...this.#records.keys()].flatMap((id) => this.#read(id, now) ?? []);
    return Promise.resolve(
      records.filter((r) => r.decision === undefined).sort((a, b) => a.createdAtMs - b.createdAtMs),
    );
  }

  resolve(
    id: string,
    decision: ApprovalDecision,
    resolvedBy: string | null,
    now: number,
  ): Promise<ApprovalResolution> {
    const record = this.#read(id, now);
    if (!record) return Promise.resolve({ outcome: "missing" } as const);
    if (record.decision !== undefined) return Promise.resolve({ outcome: "repeat", record } as const);
    const resolved = { ...record, decision, resolvedBy, resolvedAtMs: now };
    this.#records.set(id, JSON.stringify(resolved));
    return Promise.resolve({ outcome: "resolved", record: resolved } as const);
  }

  expire(id: string): Promise<boolean> {
    const text = this.#records.get(id);
    const pending = text !== undefined && (JSON.parse(text) as ExecApprovalRecord).decision === undefined;
    if (pending) this.#records.delete(id);
    return Promise.resolve(pending);
  }

  allow(agentId: string, command: string): Promise<void> {
    this.#allowed.add(JSON.stringify([agentId, command]));
    return Promise.resolve();
  }

  allowed(agentId: string, command: string): Promise<boolean> {
    return Promise.resolve(this.#allowed.has(JSON.stringify([agentId, command])));
  }
}
