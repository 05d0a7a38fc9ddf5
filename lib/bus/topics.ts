/**
 * Which sockets of this process subscribed to which topics, and the delivery filter that decides
 * whether a bus event reaches a socket. Subscriptions live with the socket (on its replica); the event
 * names only the topic, so any replica may publish it.
 *
 * @module
 */
import { scopeSatisfied } from "../protocol/scopes.ts";
import type { BusEvent } from "./types.ts";

/** Topic subscriptions of this process's sockets. */
export class SocketTopics {
  readonly #byTopic = new Map<string, Set<string>>();
  readonly #byConn = new Map<string, Set<string>>();
  readonly #watched = new Set<string>();

  /** Forgets `connId`'s subscriptions once `closed` fires (a socket's call signal aborts on disconnect). */
  watch(connId: string, closed: AbortSignal): void {
    if (this.#watched.has(connId) || closed.aborted) return;
    this.#watched.add(connId);
    closed.addEventListener("abort", () => this.drop(connId), { once: true });
  }

  /** Subscribes a socket to a topic. */
  add(connId: string, topic: string): void {
    addTo(this.#byTopic, topic, connId);
    addTo(this.#byConn, connId, topic);
  }

  /** Ends one subscription of a socket. */
  remove(connId: string, topic: string): void {
    removeFrom(this.#byTopic, topic, connId);
    removeFrom(this.#byConn, connId, topic);
  }

  /** Forgets a socket entirely (it disconnected). */
  drop(connId: string): void {
    for (const topic of this.#byConn.get(connId) ?? []) removeFrom(this.#byTopic, topic, connId);
    this.#byConn.delete(connId);
    this.#watched.delete(connId);
  }

  /** Whether `connId` subscribed to any of `topics`. */
  has(connId: string, topics: readonly string[]): boolean {
    const mine = this.#byConn.get(connId);
    return mine !== undefined && topics.some((topic) => mine.has(topic));
  }

  /** Whether any socket of this process subscribed to any of `topics`. */
  reaches(topics: readonly string[]): boolean {
    return topics.some((topic) => this.#byTopic.has(topic));
  }
}

function addTo(map: Map<string, Set<string>>, key: string, value: string): void {
  const set = map.get(key);
  if (set) set.add(value);
  else map.set(key, new Set([value]));
}

function removeFrom(map: Map<string, Set<string>>, key: string, value: string): void {
  const set = map.get(key);
  set?.delete(value);
  if (set?.size === 0) map.delete(key);
}

/** Whether any socket of this process may receive `event`; cheap enough to skip a fan-out loop. */
export function deliverableHere(event: BusEvent, topics: SocketTopics): boolean {
  return !event.internal && (!event.topics || topics.reaches(event.topics));
}

/** Whether the socket `connId`, holding `scopes`, receives `event`. */
export function admits(
  event: BusEvent,
  connId: string,
  scopes: readonly string[],
  topics: SocketTopics,
): boolean {
  if (event.internal) return false;
  if (event.connIds && !event.connIds.includes(connId)) return false;
  if (event.topics && !topics.has(connId, event.topics)) return false;
  return !event.scope || scopeSatisfied(scopes, event.scope);
}
