/**
 * This replica's own events on the Redis bus, in publish order, each until it may reach this replica's
 * listeners without passing anything Redis ran before it: a published one once its echo is heard (by then
 * the subscriber has heard every message Redis ran before it), an event for this replica alone as soon as
 * every own event before it has gone. So an event no other replica hears never travels to Redis at all, and
 * one whose publish failed, or whose echo cannot come, still reaches this replica's sockets, once.
 *
 * @module
 */
import type { BusEvent } from "../../bus/types.ts";

/**
 * How an own event gets its place: `local` has it at once (for this replica alone), `published` when its
 * echo is heard or its publish failed, `guarded` when its guarded publish is answered yes.
 */
export type OwnEventKind = "local" | "published" | "guarded";

interface OwnEvent {
  event: BusEvent;
  kind: OwnEventKind;
  ready: boolean;
}

/**
 * How many own events may wait for their echo: past it the oldest goes without (a subscriber that stopped
 * hearing while staying connected would otherwise keep them all).
 */
export const OWN_EVENTS_LIMIT = 10_000;

/** A replica's own events waiting for their place, oldest first (see the module). */
export class OwnEvents {
  /** By publish number; a Map iterates in insertion order, which is publish order. */
  readonly #waiting = new Map<number, OwnEvent>();
  #pumping = false;

  /** `dispatch` hands one event to the listeners. */
  constructor(
    private readonly dispatch: (event: BusEvent) => void,
    private readonly limit = OWN_EVENTS_LIMIT,
  ) {}

  /** Adds event number `seq` (numbers only grow). */
  add(seq: number, event: BusEvent, kind: OwnEventKind): void {
    this.#waiting.set(seq, { event, kind, ready: kind === "local" });
    if (this.#waiting.size > this.limit) this.#waiting.values().next().value!.ready = true;
  }

  /** Whether no event waits. */
  get idle(): boolean {
    return this.#waiting.size === 0;
  }

  /**
   * The echo of `seq` was heard (`copy`, the event as it came back, goes in place of the publisher's
   * object, which it may have changed since): it is ready, and so is every published event before it still
   * waiting (Redis runs one connection's publishes in order, so their echoes were missed). False when `seq`
   * no longer waits: it went without its echo, which is then to be dropped.
   */
  heard(seq: number, copy: BusEvent): boolean {
    const own = this.#waiting.get(seq);
    if (!own) return false;
    own.event = copy;
    for (const [each, earlier] of this.#waiting) {
      if (each >= seq) break;
      if (earlier.kind === "published") earlier.ready = true;
    }
    own.ready = true;
    return true;
  }

  /** These go without an echo: their publish failed (to be delivered here), or was answered yes. */
  ready(seqs: readonly number[]): void {
    for (const seq of seqs) {
      const own = this.#waiting.get(seq);
      if (own) own.ready = true;
    }
  }

  /** These are never to be delivered (a guarded publish refused, or failed). */
  drop(seqs: readonly number[]): void {
    for (const seq of seqs) this.#waiting.delete(seq);
  }

  /** Every waiting event goes without its echo: the subscriber reconnected, so echoes may have been missed. */
  readyAll(): void {
    for (const own of this.#waiting.values()) own.ready = true;
  }

  /**
   * Hands the ready events at the head to the listeners, in order. Events added meanwhile (a listener
   * publishing) are handed on by the same loop, after the one being handed on reached every listener.
   */
  pump(): void {
    if (this.#pumping) return;
    this.#pumping = true;
    try {
      for (const [seq, own] of this.#waiting) {
        if (!own.ready) break;
        this.#waiting.delete(seq);
        this.dispatch(own.event);
      }
    } finally {
      this.#pumping = false;
    }
  }
}
