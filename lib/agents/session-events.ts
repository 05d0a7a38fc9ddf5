/**
 * Per-socket session subscriptions and the events they receive: `sessions.subscribe` (every session's
 * list changes as `sessions.changed`, and its tool activity) and `sessions.messages.subscribe` / `unsubscribe` (one session's committed transcript
 * lines as `session.message`, and its tool activity as `session.tool`). A subscription ends with its
 * socket.
 *
 * @module
 */
import { z } from "zod";
import { GatewayError } from "../errors.ts";
import { type AnyMethod, anyParams, defineMethod, type ValidatedCall } from "../methods/descriptor.ts";
import type { EventBus } from "../types.ts";
import { historyMessage } from "./rows.ts";
import type { AgentRuntime, RunInfo } from "./runtime.ts";
import { targetSession } from "./session-target.ts";
import type { TranscriptEntry } from "./stores.ts";

/** Which sockets listen to which sessions. */
export class SessionSubscribers {
  readonly #all = new Set<string>();
  readonly #bySession = new Map<string, Set<string>>();
  readonly #watched = new Set<string>();

  /** Forgets `connId` once `closed` fires (the socket's call signal aborts when it disconnects). */
  watch(connId: string, closed: AbortSignal): void {
    if (this.#watched.has(connId) || closed.aborted) return;
    this.#watched.add(connId);
    closed.addEventListener("abort", () => this.drop(connId), { once: true });
  }

  /** Sockets that called `sessions.subscribe`. */
  all(): string[] {
    return [...this.#all];
  }

  /** Sockets subscribed to one session's messages. */
  of(sessionKey: string): string[] {
    return [...this.#bySession.get(sessionKey) ?? []];
  }

  /** Sockets that see a session's tool activity: its own subscribers and the global ones. */
  toolRecipients(sessionKey: string): string[] {
    return [...new Set([...this.#all, ...this.of(sessionKey)])];
  }

  subscribeAll(connId: string): void {
    this.#all.add(connId);
  }

  subscribe(connId: string, sessionKey: string): void {
    let set = this.#bySession.get(sessionKey);
    if (!set) this.#bySession.set(sessionKey, set = new Set());
    set.add(connId);
  }

  unsubscribe(connId: string, sessionKey: string): void {
    const set = this.#bySession.get(sessionKey);
    set?.delete(connId);
    if (set?.size === 0) this.#bySession.delete(sessionKey);
  }

  /** Forgets a socket entirely (it disconnected). */
  drop(connId: string): void {
    this.#all.delete(connId);
    this.#watched.delete(connId);
    for (const key of [...this.#bySession.keys()]) this.unsubscribe(connId, key);
  }
}

/** Sends one committed transcript line to the session's message subscribers. */
export function publishSessionMessage(
  bus: EventBus,
  subscribers: SessionSubscribers,
  run: RunInfo,
  entry: TranscriptEntry,
): void {
  const connIds = subscribers.of(run.sessionKey);
  if (!connIds.length) return;
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
    connIds,
  });
}

/** Sends a run's `tool` stream event (the `agent` payload plus the session key) to tool subscribers. */
export function publishSessionTool(
  bus: EventBus,
  subscribers: SessionSubscribers,
  run: RunInfo,
  agentPayload: Record<string, unknown>,
): void {
  const connIds = subscribers.toolRecipients(run.sessionKey);
  if (!connIds.length) return;
  bus.publish({
    event: "session.tool",
    payload: { ...agentPayload, sessionKey: run.sessionKey, agentId: run.agentId },
    scope: "operator.read",
    connIds,
    dropIfSlow: true,
  });
}

const UnsubscribeParams = z.strictObject({
  key: z.string().min(1),
  agentId: z.string().min(1).optional(),
});
const SubscribeParams = UnsubscribeParams.extend({ includeApprovals: z.literal(true).optional() });

const Subscribed = z.object({ subscribed: z.boolean() });
const SubscribedTo = Subscribed.extend({ key: z.string() });

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
      if (params.includeApprovals) {
        throw new GatewayError(
          "INVALID_REQUEST",
          "sessions.messages.subscribe includeApprovals is not supported: this gateway has no approvals",
        );
      }
      const target = targetSession(runtime, params.key, params.agentId);
      const connId = socketOf(call);
      if (connId) subscribers.subscribe(connId, target.key);
      return { subscribed: connId !== undefined, key: target.key };
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
