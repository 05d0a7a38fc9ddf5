/**
 * The in-process event bus: a synchronous fan-out. A shared (Redis/Valkey) bus implements the same
 * `EventBus` interface to reach sockets held by other replicas.
 *
 * @module
 */
import type { BusEvent, EventBus } from "./types.ts";

/** A bus that delivers to listeners in this process, isolating them from each other's failures. */
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
