/**
 * Event fan-out: delivers each bus event to this process's authenticated connections it is addressed to
 * (by connection id, topic or audience) and whose scopes allow it, with the state versions `presence`
 * and `health` events carry.
 *
 * @module
 */
import { admits, deliverableHere, type SocketTopics } from "../bus/topics.ts";
import { type PreparedEventFrame, preparedEventFrame } from "../protocol/frames.ts";
import type { BusEvent, EventBus } from "../types.ts";
import type { Connection } from "../ws/connection.ts";
import type { GatewayCore } from "./core.ts";

/** What fan-out needs of a connection. */
export type FanOutTarget = Pick<Connection, "ready" | "connId" | "caller" | "sendEvent">;

/**
 * Told after each event that reached at least one socket: how many, and the ms from the event entering
 * fan-out until the last socket's send returned (its frame queued, not yet on the wire).
 */
export type FanOutReport = (event: string, sockets: number, durationMs: number) => void;

/**
 * The bus listener that sends each event on to `connections` (also called directly for local ticks);
 * `report` (when given and returning one) hears what each fan-out cost.
 */
export function fanOut(
  connections: Iterable<FanOutTarget>,
  { stateVersion, noteVersions, secrets }: Pick<GatewayCore, "stateVersion" | "noteVersions" | "secrets">,
  topics: SocketTopics,
  reporter: () => FanOutReport | undefined = () => undefined,
): (event: BusEvent) => void {
  const redactJson = (json: string) => secrets.redactJson(json);
  return (event: BusEvent) => {
    const report = reporter();
    const started = report && performance.now();
    if (!deliverableHere(event, topics)) return;
    // A change another replica made carries its versions; ours may not have seen them yet.
    if (event.stateVersion) noteVersions(event.stateVersion);
    const versions = event.event === "presence" || event.event === "health" ? { ...stateVersion } : undefined;
    // Stringified and redacted once, on the first socket that takes it; every socket's frame differs
    // only in `seq`, and the sockets' wires send it without redacting it again.
    let frame: PreparedEventFrame | undefined;
    let sockets = 0;
    for (const connection of connections) {
      if (!connection.ready) continue;
      if (!admits(event, connection.connId, connection.caller!.scopes, topics)) continue;
      frame ??= preparedEventFrame(event.event, event.payload, versions, redactJson);
      connection.sendEvent(event.event, event.payload, versions, event.dropIfSlow, frame);
      sockets++;
    }
    if (report && sockets) report(event.event, sockets, performance.now() - started!);
  };
}

/** A listener's subscription to a bus that can be taken and given back more than once. */
export interface BusSubscription {
  /** Subscribes the listener unless it already is. */
  subscribe(): void;
  /** Removes the listener, if subscribed: a bus that outlives the gateway keeps nothing of it. */
  unsubscribe(): void;
}

/** `listener`'s subscription to `bus`, not yet taken. */
export function busSubscription(bus: EventBus, listener: (event: BusEvent) => void): BusSubscription {
  let release: (() => void) | undefined;
  return {
    subscribe() {
      release ??= bus.subscribe(listener);
    },
    unsubscribe() {
      release?.();
      release = undefined;
    },
  };
}
