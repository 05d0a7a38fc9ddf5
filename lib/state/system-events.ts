/**
 * System events queued for a session's next turn: a hook's `next-heartbeat` wake leaves its text here,
 * and whichever replica runs the session's next heartbeat (or hook-started) turn takes it into that turn.
 *
 * @module
 */

/**
 * Where queued system events wait; in-process by default, shared across replicas by a network store.
 * Session keys are compared exactly (callers pass canonical keys).
 */
export interface SystemEventStore {
  /** Queues `text` for the session's next turn; past {@link SYSTEM_EVENTS_CAP} the oldest go. */
  enqueue(sessionKey: string, text: string): Promise<void>;
  /** Takes the session's queued texts, oldest first, and empties its queue: two takers never share one. */
  take(sessionKey: string): Promise<string[]>;
}

/** At most this many events wait per session, as in OpenClaw's queue. */
export const SYSTEM_EVENTS_CAP = 20;

/** The in-process system event queue. */
export class MemorySystemEventStore implements SystemEventStore {
  #queues = new Map<string, string[]>();

  enqueue(sessionKey: string, text: string): Promise<void> {
    const queue = [...(this.#queues.get(sessionKey) ?? []), text];
    this.#queues.set(sessionKey, queue.slice(-SYSTEM_EVENTS_CAP));
    return Promise.resolve();
  }

  take(sessionKey: string): Promise<string[]> {
    const queue = this.#queues.get(sessionKey) ?? [];
    this.#queues.delete(sessionKey);
    return Promise.resolve(queue);
  }
}

/** The lines a turn's system prompt carries for the events it took; empty when there are none. */
export function systemEventLines(events: readonly string[]): string[] {
  return events.length ? ["Pending system events:", ...events.map((event) => `- ${event}`)] : [];
}
