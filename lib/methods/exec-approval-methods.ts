/**
 * The exec approval methods, imported on the first `exec.approval.*` call (see `exec-approvals.ts`): their
 * params schemas and this process's waiting callers.
 *
 * @module
 */
import * as z from "zod";
import { GatewayError } from "../errors.ts";
import type { ApprovalDecision, ExecApprovalRecord, ExecApprovalStore } from "../state/exec-approvals.ts";
import { type AnyMethod, type CallerIdentity, defineMethod } from "./descriptor.ts";
import type { BuiltInEventSink } from "./module-host.ts";

/** How long a request waits for an operator unless it says otherwise: the reference's 30 minutes. */
export const DEFAULT_EXEC_APPROVAL_TIMEOUT_MS = 30 * 60_000;

/** What the exec approval methods need from the gateway. */
export interface ExecApprovalsHost {
  store: ExecApprovalStore;
  /**
   * Whether an approval client other than the `requester` socket is connected; `adminOnly` for a request
   * only admins (and its requester) may see.
   */
  approvalClients(requester: string, adminOnly: boolean): Promise<boolean>;
  now(): number;
  newId(): string;
}

const APPROVALS_SCOPE = "operator.approvals";
const DECISIONS = ["allow-once", "allow-always", "deny"] as const;

const nullableString = z.string().nullable().optional();

// Every key of the reference's ExecApprovalRequestParams; the ones this gateway has no use for are accepted.
const RequestParams = z.strictObject({
  id: z.string().min(1).optional(),
  command: z.string().min(1).optional(),
  commandArgv: z.array(z.string()).optional(),
  systemRunPlan: z.record(z.string(), z.unknown()).optional(),
  env: z.record(z.string(), z.string()).optional(),
  cwd: nullableString,
  nodeId: nullableString,
  host: nullableString,
  security: nullableString,
  ask: nullableString,
  warningText: nullableString,
  scope: z.unknown().optional(),
  unavailableDecisions: z.array(z.literal("allow-always")).min(1).max(1).optional(),
  commandSpans: z.array(z.unknown()).optional(),
  agentId: nullableString,
  resolvedPath: nullableString,
  sessionKey: nullableString,
  sessionId: nullableString,
  runId: nullableString,
  toolCallId: nullableString,
  turnSourceChannel: nullableString,
  turnSourceTo: nullableString,
  turnSourceAccountId: nullableString,
  turnSourceThreadId: z.union([z.string(), z.number()]).nullable().optional(),
  approvalReviewerDeviceIds: z.array(z.string().min(1)).optional(),
  requireDeliveryRoute: z.boolean().optional(),
  suppressDelivery: z.boolean().optional(),
  deliverToApprovalClientsOnly: z.boolean().optional(),
  // A timer waits at most 2^31-1 ms; a longer one would fire at once and expire the request unanswered.
  timeoutMs: z.number().int().min(1).max(2 ** 31 - 1).optional(),
  twoPhase: z.boolean().optional(),
});

const ResolveParams = z.strictObject({
  id: z.string().min(1),
  decision: z.string().min(1),
  reviewer: z.strictObject({
    channel: z.string().min(1),
    accountId: z.string().min(1),
    senderId: z.string().min(1),
  }).optional(),
  grantExpiresInDays: z.number().int().min(1).max(3650).optional(),
});

type RequestInput = z.infer<typeof RequestParams>;

/** The decisions a request offers: `ask: "always"` or an unavailable `allow-always` leave it out. */
function allowedDecisions(p: RequestInput): ApprovalDecision[] {
  const once = p.ask === "always" || p.unavailableDecisions?.includes("allow-always");
  return once ? ["allow-once", "deny"] : [...DECISIONS];
}

/** The request as clients see it, in the reference's field order. */
function requestView(p: RequestInput, command: string): Record<string, unknown> {
  const host = p.host?.trim() || null;
  return {
    command,
    commandArgv: host === "node" ? undefined : p.commandArgv,
    envKeys: p.env && Object.keys(p.env).length ? Object.keys(p.env).sort() : undefined,
    cwd: p.cwd ?? null,
    nodeId: host === "node" ? p.nodeId ?? null : null,
    host,
    security: p.security ?? null,
    ask: p.ask ?? null,
    warningText: p.warningText ?? null,
    unavailableDecisions: p.unavailableDecisions,
    allowedDecisions: allowedDecisions(p),
    agentId: p.agentId ?? null,
    resolvedPath: p.resolvedPath ?? null,
    sessionKey: p.sessionKey ?? null,
    sessionId: p.sessionId ?? null,
    runId: p.runId ?? null,
    toolCallId: p.toolCallId ?? null,
    turnSourceChannel: p.turnSourceChannel ?? null,
    turnSourceTo: p.turnSourceTo ?? null,
    turnSourceAccountId: p.turnSourceAccountId ?? null,
    turnSourceThreadId: p.turnSourceThreadId ?? null,
  };
}

/** The gateway's own requests (its tools asking) are bound to no client. */
const INTERNAL_CONN = /^(internal|tools)(:|$)/;

/** Whether `caller` may see (list, get, answer) `record`: admins always; else only its requester, as the reference decides. */
function visibleTo(record: ExecApprovalRecord, caller: CallerIdentity): boolean {
  if (caller.scopes.includes("operator.admin")) return true;
  if (record.requestedByDeviceId) return record.requestedByDeviceId === caller.deviceId;
  if (record.requestedByConnId) return record.requestedByConnId === caller.connId;
  return true;
}

/** Who hears about `record`: every approver, or only admins for a request bound to its requester. */
const audience = (record: ExecApprovalRecord) =>
  record.requestedByConnId || record.requestedByDeviceId ? "operator.admin" : APPROVALS_SCOPE;

function invalid(message: string, details?: Record<string, unknown>): GatewayError {
  return new GatewayError("INVALID_REQUEST", message, details ? { details } : {});
}

const notFound = () =>
  invalid("unknown or expired approval id", {
    reason: "APPROVAL_NOT_FOUND",
    remediation: "Re-request the action; pending approvals are cleared after expiry or restart.",
  });

/** This process's callers waiting on a decision, woken by the `exec.approval.resolved` events they hear. */
export class DecisionWaiters {
  #waiting = new Map<string, (decision: ApprovalDecision | null) => void>();
  #giveUps = new Map<string, () => void>();

  /** Resolves with the decision heard for `id`, or null once `expiresAtMs` passed or `signal` aborted. */
  wait(
    record: ExecApprovalRecord,
    host: ExecApprovalsHost,
    signal: AbortSignal,
  ): Promise<ApprovalDecision | null> {
    return new Promise((resolve) => {
      const settle = (decision: ApprovalDecision | null) => {
        clearTimeout(timer);
        signal.removeEventListener("abort", giveUp);
        this.#waiting.delete(record.id);
        this.#giveUps.delete(record.id);
        resolve(decision);
      };
      // An answer may have raced the expiry: whatever the store holds is the outcome.
      const giveUp = async () => {
        if (await host.store.expire(record.id)) return settle(null);
        settle((await host.store.get(record.id, host.now()))?.decision ?? null);
      };
      this.#waiting.set(record.id, settle);
      this.#giveUps.set(record.id, giveUp);
      signal.addEventListener("abort", giveUp, { once: true });
      const timer = setTimeout(giveUp, Math.max(0, record.expiresAtMs - host.now()));
    });
  }

  /** Ends the wait on `id` now, as its expiry would. */
  giveUp(id: string): void {
    this.#giveUps.get(id)?.();
  }

  /** Wakes the caller waiting on `id`, if it waits here; `null` when the request ended unanswered. */
  heard(id: string, decision: ApprovalDecision | null): void {
    this.#waiting.get(id)?.(decision);
  }
}

/** `exec.approval.request`, `.resolve`, `.list` and `.get`; `events` is where announcements go. */
export function execApprovalMethods(
  host: ExecApprovalsHost,
  events: BuiltInEventSink,
  waiters: DecisionWaiters,
): AnyMethod[] {
  const { store, now } = host;
  const announce = (record: ExecApprovalRecord, event: string, payload: unknown) =>
    events.publish({ event, payload, scope: audience(record), dropIfSlow: true });
  /** The record `id` if `caller` may see it. */
  const find = async (id: string, caller: CallerIdentity) => {
    const record = await store.get(id, now());
    return record && visibleTo(record, caller) ? record : undefined;
  };
  return [
    defineMethod({
      name: "exec.approval.request",
      scope: APPROVALS_SCOPE,
      params: RequestParams,
      handler: async ({ params: p, signal, ack, caller }) => {
        if (p.host?.trim() === "node" && !p.nodeId) throw invalid("nodeId is required for host=node");
        const command = (p.command ?? p.commandArgv?.join(" ") ?? "").trim();
        if (!command) throw invalid("command is required");
        if (p.id?.startsWith("plugin:")) throw invalid("approval ids starting with plugin: are reserved");
        const createdAtMs = now();
        const record: ExecApprovalRecord = {
          id: p.id ?? host.newId(),
          request: requestView(p, command),
          createdAtMs,
          expiresAtMs: createdAtMs + (p.timeoutMs ?? DEFAULT_EXEC_APPROVAL_TIMEOUT_MS),
          ...(INTERNAL_CONN.test(caller.connId) ? {} : {
            requestedByConnId: caller.connId,
            requestedByDeviceId: caller.deviceId ?? null,
            requestedFrom: caller.remoteAddress ?? "unknown",
          }),
        };
        const evicted = await store.create(record, createdAtMs);
        if (!evicted) throw invalid("approval id already pending");
        // A full gateway made room by ending another client's request: it ends as an expiry would, and its
        // caller (on any replica, woken by this event) gets its null decision now rather than at its timeout.
        for (const old of evicted) {
          announce(old, "exec.approval.resolved", {
            id: old.id,
            decision: null,
            resolvedBy: null,
            ts: createdAtMs,
            request: old.request,
          });
        }
        const decided = waiters.wait(record, host, signal);
        const { id, request, expiresAtMs } = record;
        if (p.suppressDelivery !== true) {
          announce(record, "exec.approval.requested", {
            approvalKind: "exec",
            id,
            request,
            createdAtMs,
            expiresAtMs,
          });
        }
        // Nobody could answer: the request ends at once (the reference's no-approval-route), not after its timeout.
        const routed = p.suppressDelivery !== true &&
          await host.approvalClients(caller.connId, audience(record) === "operator.admin");
        if (!routed && p.requireDeliveryRoute !== false) {
          waiters.giveUp(id);
        } else if (p.twoPhase) {
          const deliveryRoute = routed ? "approval-client" : "none";
          ack({ status: "accepted", id, deliveryRoute, createdAtMs, expiresAtMs });
        }
        return { id, decision: await decided, createdAtMs, expiresAtMs };
      },
    }),
    defineMethod({
      name: "exec.approval.resolve",
      scope: APPROVALS_SCOPE,
      params: ResolveParams,
      handler: async ({ params, caller }) => {
        const decision = DECISIONS.find((d) => d === params.decision);
        if (!decision) throw invalid("invalid decision");
        // Answers relayed from a chat channel need that channel's approval custody, which is not built here.
        if (params.reviewer) throw notFound();
        const pending = await find(params.id, caller);
        if (!pending) throw notFound();
        if (pending.decision === undefined) {
          const allowed = pending.request.allowedDecisions as string[] | undefined;
          if (allowed && !allowed.includes(decision)) {
            throw invalid("allow-always is unavailable for this command", {
              reason: "APPROVAL_ALLOW_ALWAYS_UNAVAILABLE",
            });
          }
        }
        const resolvedBy = caller.client?.displayName ?? caller.client?.id ?? null;
        const outcome = await store.resolve(params.id, decision, resolvedBy, now());
        if (outcome.outcome === "missing") throw notFound();
        if (outcome.outcome === "repeat") {
          if (outcome.record.decision === decision) return { ok: true };
          throw invalid("approval already resolved", { reason: "APPROVAL_ALREADY_RESOLVED" });
        }
        const { request } = outcome.record;
        if (decision === "allow-always" && typeof request.agentId === "string") {
          await store.allow(request.agentId, String(request.command));
        }
        announce(outcome.record, "exec.approval.resolved", {
          id: params.id,
          decision,
          resolvedBy,
          ts: now(),
          request,
        });
        return { ok: true };
      },
    }),
    defineMethod({
      name: "exec.approval.list",
      scope: APPROVALS_SCOPE,
      params: z.looseObject({}),
      handler: async ({ caller }) =>
        (await store.listPending(now())).filter((r) => visibleTo(r, caller)).map((
          { id, request, createdAtMs, expiresAtMs },
        ) => ({
          id,
          request,
          createdAtMs,
          expiresAtMs,
          approvalKind: "exec",
        })),
    }),
    defineMethod({
      name: "exec.approval.get",
      scope: APPROVALS_SCOPE,
      params: z.strictObject({ id: z.string().min(1) }),
      handler: async ({ params, caller }) => {
        const record = await find(params.id, caller);
        if (!record || record.decision !== undefined) throw notFound();
        const { request } = record;
        return {
          id: record.id,
          commandText: request.command,
          commandPreview: null,
          allowedDecisions: request.allowedDecisions,
          host: request.host ?? null,
          nodeId: request.nodeId ?? null,
          agentId: request.agentId ?? null,
          expiresAtMs: record.expiresAtMs,
        };
      },
    }),
  ];
}
