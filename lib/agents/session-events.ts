/**
 * Per-socket session subscriptions and the events they receive: `sessions.subscribe` (every session's
 * list changes as `sessions.changed`, and its tool activity) and `sessions.messages.subscribe` / `unsubscribe` (one session's committed transcript
 * lines as `session.message`, and its tool activity as `session.tool`). A subscription ends with its
 * socket. Subscriptions are bus topics of this process's sockets; events name the topic, so a turn run
 * on any replica reaches them.
 *
 * @module
 */
import * as z from "zod";
import { GatewayError } from "../errors.ts";
import type { SocketTopics } from "../bus/topics.ts";
import {
  type AnyMethod,
  anyParams,
  type CallerIdentity,
  defineMethod,
  type ValidatedCall,
} from "../methods/descriptor.ts";
import type { EventBus } from "../types.ts";
import { historyMessage } from "./rows.ts";
import type { AgentRuntime, RunInfo } from "./runtime.ts";
import { targetSession } from "./session-target.ts";
import type { TranscriptEntry } from "../state/sessions.ts";

/** The topic of the sockets that called `sessions.subscribe`. */
export const SESSIONS_TOPIC = "sessions";

/** The topic of the sockets subscribed to one session's messages. */
export function sessionTopic(sessionKey: string): string {
  return `session:${sessionKey}`;
}

/** Session subscriptions of this process's sockets, kept as bus topics so events find them on delivery. */
export class SessionSubscribers {
  constructor(private readonly topics: SocketTopics) {}

  /** Forgets `connId` once `closed` fires (the socket's call signal aborts when it disconnects). */
  watch(connId: string, closed: AbortSignal): void {
    this.topics.watch(connId, closed);
  }

  subscribeAll(connId: string): void {
    this.topics.add(connId, SESSIONS_TOPIC);
  }

  subscribe(connId: string, sessionKey: string): void {
    this.topics.add(connId, sessionTopic(sessionKey));
  }

  unsubscribe(connId: string, sessionKey: string): void {
    this.topics.remove(connId, sessionTopic(sessionKey));
  }
}

/** Sends one committed transcript line to the session's message subscribers on every replica. */
export function publishSessionMessage(
  bus: Pick<EventBus, "publish">,
  run: RunInfo,
  entry: TranscriptEntry,
): void {
  bus.publish({
    event: "session.message",
    payload: {
      sessionKey: run.sessionKey,
      agentId: run.agentId,
      message: historyMessage(entry),
      messageId: entry.id,
      messageSeq: entry.seq,
    },
    scope: "operator.read",
    topics: [sessionTopic(run.sessionKey)],
    sessionKey: run.sessionKey,
  });
}

/** A `session.operation` event: a compaction starting or ending (`completed`, `reason` at the end). */
export interface SessionOperation {
  operationId: string;
  phase: "start" | "end";
  sessionKey: string;
  agentId: string;
  ts: number;
  completed?: boolean;
  reason?: string;
}

/** Tells the session's subscribers and the `sessions.subscribe` sockets about a compaction's progress. */
export function publishSessionOperation(bus: EventBus, operation: SessionOperation): void {
  bus.publish({
    event: "session.operation",
    payload: { operation: "compact", ...operation },
    scope: "operator.read",
    topics: [SESSIONS_TOPIC, sessionTopic(operation.sessionKey)],
    sessionKey: operation.sessionKey,
  });
}

/** Sends a run's `tool` stream event (the `agent` payload plus the session key) to tool subscribers. */
export function publishSessionTool(
  bus: Pick<EventBus, "publish">,
  run: RunInfo,
  agentPayload: Record<string, unknown>,
): void {
  bus.publish({
    event: "session.tool",
    payload: { ...agentPayload, sessionKey: run.sessionKey, agentId: run.agentId },
    scope: "operator.read",
    // The session's own subscribers and the global ones; a socket that is both gets it once.
    topics: [SESSIONS_TOPIC, sessionTopic(run.sessionKey)],
    sessionKey: run.sessionKey,
    dropIfSlow: true,
  });
}

const UnsubscribeParams = z.strictObject({
  key: z.string().min(1),
  agentId: z.string().min(1).optional(),
});
const SubscribeParams = UnsubscribeParams.extend({ includeApprovals: z.literal(true).optional() });

const Subscribed = z.object({ subscribed: z.boolean() });
const SubscribedTo = Subscribed.extend({ key: z.string(), approvalReplay: z.unknown().optional() });

/** Admins, or holders of `operator.approvals` on a paired device, may review approvals. */
function canReviewApprovals(caller: CallerIdentity): boolean {
  return caller.scopes.includes("operator.admin") ||
    (caller.scopes.includes("operator.approvals") && caller.deviceId !== undefined);
}

/** `sessions.subscribe` and `sessions.messages.subscribe` / `unsubscribe`. */
export function sessionSubscriptionMethods(
  runtime: AgentRuntime,
  subscribers: SessionSubscribers,
): AnyMethod[] {
  // Only sockets can hold a subscription; HTTP and in-process callers get `subscribed: false`.
  const socketOf = (call: ValidatedCall<unknown>): string | undefined => {
    const connId = call.caller.connId;
    if (connId === "internal" || connId.startsWith("http:")) return undefined;
    subscribers.watch(connId, call.signal);
    return connId;
  };

  const subscribeAll = defineMethod({
    name: "sessions.subscribe",
    scope: "operator.read",
    params: anyParams,
    result: Subscribed,
    handler: (call) => {
      const connId = socketOf(call);
      if (connId) subscribers.subscribeAll(connId);
      return { subscribed: connId !== undefined };
    },
  });

  const subscribe = defineMethod({
    name: "sessions.messages.subscribe",
    scope: "operator.read",
    params: SubscribeParams,
    result: SubscribedTo,
    handler: (call) => {
      const { params } = call;
      // Who may review approvals (as the reference decides it) gets this gateway's truthful replay:
      // it has no approvals, so none are pending.
      if (params.includeApprovals && !canReviewApprovals(call.caller)) {
        throw new GatewayError(
          "INVALID_REQUEST",
          "sessions.messages.subscribe includeApprovals is not supported: this gateway has no approvals",
        );
      }
      const target = targetSession(runtime, params.key, params.agentId);
      const connId = socketOf(call);
      if (connId) subscribers.subscribe(connId, target.key);
      const approvalReplay = { sessionKey: target.key, updatedAtMs: 0, approvals: [], truncated: false };
      return {
        subscribed: connId !== undefined,
        key: target.key,
        ...(params.includeApprovals ? { approvalReplay } : {}),
      };
    },
  });

  const unsubscribe = defineMethod({
    name: "sessions.messages.unsubscribe",
    scope: "operator.read",
    params: UnsubscribeParams,
    result: SubscribedTo,
    handler: ({ params, caller }) => {
      const target = targetSession(runtime, params.key, params.agentId);
      subscribers.unsubscribe(caller.connId, target.key);
      return { subscribed: false, key: target.key };
    },
  });

  return [subscribeAll, subscribe, unsubscribe];
}
