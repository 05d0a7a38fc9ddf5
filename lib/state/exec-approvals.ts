/**
 * Exec approvals every replica sees: requests waiting for an operator's decision (first answer wins),
 * resolved ones kept a while so a repeated answer can be told apart from an unknown id, and the commands
 * an `allow-always` decision trusts from then on, per agent.
 *
 * @module
 */
import { addressBucket } from "../net/address-bucket.ts";
import { checkPendingLimits, type PendingLimits, type PendingSlot } from "./pending-limits.ts";

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
  /** The client address that asked, when a client asked: what {@link APPROVAL_LIMITS} count by. */
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

/** The caps on clients' waiting requests (see pending-limits.ts for how a full gateway makes room). */
export const APPROVAL_LIMITS: PendingLimits = {
  perBucket: MAX_PENDING_APPROVALS_PER_ADDRESS,
  total: MAX_PENDING_APPROVALS,
  code: "APPROVAL_REQUESTS_LIMITED",
  what: "exec approval requests",
  remedy: "wait for them to be answered or expire",
};

/** The client address bucket a client's request counts against; none for the gateway's own. */
export function approvalBucket(record: ExecApprovalRecord): string | undefined {
  return record.requestedFrom === undefined ? undefined : addressBucket(record.requestedFrom);
}

/** Where exec approvals live; in-process by default, shared across replicas by a network store. */
export interface ExecApprovalStore {
  /**
   * Adds a pending request; false when a live request with its id exists. A client's request is held to
   * {@link APPROVAL_LIMITS} (by {@link approvalBucket}): a refusal throws their error and adds nothing; on a
   * full gateway it may take the place of another client's pending request, which is then dropped as if
   * it expired. Resolves to the requests so dropped (none unless the gateway was full), for the caller to
   * announce and end their waits.
   */
  create(record: ExecApprovalRecord, now: number): Promise<ExecApprovalRecord[] | false>;
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

  create(record: ExecApprovalRecord, now: number): Promise<ExecApprovalRecord[] | false> {
    // Records nobody reads again (answered, never listed) would otherwise stay: each create sweeps, as the
    // Redis store's does.
    const live = [...this.#records.keys()].flatMap((id) => this.#read(id, now) ?? []);
    if (this.#read(record.id, now)) return Promise.resolve(false);
    const bucket = approvalBucket(record);
    const evicted: ExecApprovalRecord[] = [];
    if (bucket !== undefined) {
      const others = live.flatMap((r): PendingSlot[] => {
        const from = approvalBucket(r);
        return r.decision === undefined && from !== undefined
          ? [{ id: r.id, bucket: from, expiresAtMs: r.expiresAtMs }]
          : [];
      });
      try {
        const id = checkPendingLimits(APPROVAL_LIMITS, bucket, others, now);
        if (id !== undefined) {
          evicted.push(this.#read(id, now)!);
          this.#records.delete(id);
        }
      } catch (error) {
        return Promise.reject(error);
      }
    }
    this.#records.set(record.id, JSON.stringify(record));
    return Promise.resolve(evicted);
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
