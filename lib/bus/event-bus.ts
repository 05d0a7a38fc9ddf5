/**
 * The in-process event bus: a synchronous fan-out. A shared (Redis/Valkey) bus implements the same
 * `EventBus` interface to reach sockets held by other replicas.
 *
 * @module
 */
import type { BusEvent, EventBus } from "./types.ts";

/**
 * A bus that delivers to listeners in this process, isolating them from each other's failures.
 *
 * @example A listener that throws does not keep the event from the others
 * ```ts
 * import { InProcessEventBus } from "@openclaw-ts/gateway";
 *
 * const failures: unknown[] = [];
 * const bus = new InProcessEventBus((error) => failures.push(error));
 * const seen: string[] = [];
 * bus.subscribe(() => {
 *   throw new Error("a broken listener");
 * });
 * const unsubscribe = bus.subscribe((event) => seen.push(event.event));
 * bus.publish({ event: "app.ping", payload: { n: 1 }, scope: "operator.read" });
 * if (seen.join() !== "app.ping" || failures.length !== 1) throw new Error(`${seen} / ${failures}`);
 * unsubscribe();
 * await bus.close();
 * ```
 */
export class InProcessEventBus implements EventBus {
  #listeners = new Set<(event: BusEvent) => void>();
  #closed = false;
  /** `onListenerError` hears what a listener threw; the other listeners still get the event. */
  constructor(private readonly onListenerError: (error: unknown) => void = () => {}) {}

  publish(event: BusEvent): void {
    for (const listener of this.#listeners) {
      try {
        listener(event);
      } catch (error) {
        this.onListenerError(error);
      }
    }
  }

  subscribe(listener: (event: BusEvent) => void): () => void {
    if (this.#closed) return () => {};
    this.#listeners.add(listener);
    return () => this.#listeners.delete(listener);
  }

  close(): Promise<void> {
    this.#closed = true;
    this.#listeners.clear();
    return Promise.resolve();
  }
}
