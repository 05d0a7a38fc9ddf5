/**
 * The `heartbeat` event (OpenClaw's payload: status, reason, preview, channel, ...) and what every
 * replica remembers of the heartbeat stream: the last event (`last-heartbeat`) and whether heartbeats are
 * switched on (`set-heartbeats`). Both travel on the bus, so whichever replica runs the heartbeats, every
 * replica answers alike. The switch lives as long as the gateway runs, as the reference's does (a restart
 * turns heartbeats back on); for a cluster that is as long as any replica runs: a replica that starts
 * later asks the others for it, so the heartbeat singleton moving to it does not switch heartbeats back on.
 * Replicas hear the bus with different lags, so an answer may be older than a switch made meanwhile: each
 * switch carries a stamp (a Lamport counter; ties go to the later switch by its replica's clock, then to the
 * greater replica id) and a replica applies only a switch newer than the one it holds; an answer repeats
 * the stamp of the switch it reports, never a new one. A replica of an earlier version (during a rolling
 * upgrade) stamps nothing: its switch applies only while no stamped switch has been heard, since it cannot
 * be ordered against one (docs/heartbeat.md).
 *
 * @module
 */
import * as z from "zod";
import type { EventBus } from "../bus/types.ts";

/** The `heartbeat` event payload; `last-heartbeat` returns the last one (or `null`). */
export const HeartbeatEventSchema = z.object({
  ts: z.number().int().nonnegative(),
  status: z.enum(["sent", "ok-empty", "ok-token", "skipped", "failed"]),
  to: z.string().optional(),
  accountId: z.string().optional(),
  preview: z.string().optional(),
  durationMs: z.number().int().nonnegative().optional(),
  hasMedia: z.boolean().optional(),
  /** The machine-stable reason code (`interval`, `no-route`, `target-none`, `requests-in-flight`, ...). */
  reason: z.string().optional(),
  /** What an operator should make of `reason`. */
  message: z.string().optional(),
  /** The channel the heartbeat was delivered to. */
  channel: z.string().optional(),
  /** The acknowledgement was swallowed rather than shown. */
  silent: z.boolean().optional(),
  indicatorType: z.enum(["ok", "alert", "error"]).optional(),
}).strict();

/** One heartbeat outcome, as clients receive it. */
export type HeartbeatEvent = z.infer<typeof HeartbeatEventSchema>;

/** Bus event (internal) switching heartbeats on or off on every replica: `{ enabled, stamp }`. */
export const HEARTBEAT_SWITCH_EVENT = "agents.heartbeat.switch";
/** Bus event (internal) of a starting replica asking the others for the switch. */
const HEARTBEAT_SWITCH_ASK = "agents.heartbeat.switch.ask";

/** The operator messages OpenClaw pairs with these reason codes. */
const REASON_MESSAGES: Readonly<Record<string, string>> = {
  "target-none": "Heartbeat delivery is disabled by configuration (target: none).",
  "no-route":
    "Heartbeat has no delivery route yet. Message your bot once, or set agents.defaults.heartbeat.target.",
};

/** Orders switches cluster-wide: a Lamport counter, then when (by the switching replica's clock), then its id. */
type SwitchStamp = readonly [counter: number, atMs: number, replica: string];

const newer = (a: SwitchStamp, b: SwitchStamp) =>
  a[0] !== b[0] ? a[0] > b[0] : a[1] !== b[1] ? a[1] > b[1] : a[2] > b[2];

/** The bus-fed heartbeat state of one replica. */
export class HeartbeatState {
  #last: HeartbeatEvent | null = null;
  #enabled = true;
  /** The stamp of the switch `#enabled` comes from; none while nobody switched with one. */
  #stamp: SwitchStamp | undefined;
  /** Whether `#enabled` comes from an unstamped switch (none stamped heard yet). */
  #unstamped = false;
  readonly #replica = crypto.randomUUID();
  readonly #unsubscribe: () => void;

  /** Listens to the bus at once, so {@link HeartbeatState.close} must follow. */
  constructor(private readonly bus: EventBus, private readonly now: () => number) {
    this.#unsubscribe = bus.subscribe((event) => {
      if (event.event === "heartbeat" && !event.internal) this.#last = event.payload as HeartbeatEvent;
      if (!event.internal) return;
      if (event.event === HEARTBEAT_SWITCH_EVENT) {
        const { enabled, stamp } = event.payload as { enabled: boolean; stamp?: SwitchStamp };
        if (stamp ? this.#stamp && !newer(stamp, this.#stamp) : this.#stamp) return;
        this.#enabled = enabled;
        this.#stamp = stamp;
        this.#unstamped = !stamp;
      } else if (event.event === HEARTBEAT_SWITCH_ASK && (this.#stamp || this.#unstamped)) {
        this.#tell();
      }
    });
    bus.publish({ event: HEARTBEAT_SWITCH_ASK, payload: {}, internal: true });
  }

  /** The last heartbeat event any replica published since this one started, or `null`. */
  get last(): HeartbeatEvent | null {
    return this.#last;
  }

  /** Whether heartbeats run (on until `set-heartbeats` turns them off). */
  get enabled(): boolean {
    return this.#enabled;
  }

  /** Switches heartbeats on or off on every replica. */
  setEnabled(enabled: boolean): void {
    this.#enabled = enabled;
    this.#stamp = [(this.#stamp?.[0] ?? 0) + 1, this.now(), this.#replica];
    this.#unstamped = false;
    this.#tell();
  }

  #tell(): void {
    const payload = { enabled: this.#enabled, ...(this.#stamp ? { stamp: this.#stamp } : {}) };
    this.bus.publish({ event: HEARTBEAT_SWITCH_EVENT, payload, internal: true });
  }

  /** Stamps `event` and sends it to every authenticated socket (droppable, as the reference sends it). */
  publish(event: Omit<HeartbeatEvent, "ts">): HeartbeatEvent {
    const message = event.message ?? (event.reason ? REASON_MESSAGES[event.reason] : undefined);
    const payload: HeartbeatEvent = { ts: this.now(), ...event, ...(message ? { message } : {}) };
    this.#last = payload;
    this.bus.publish({ event: "heartbeat", payload, dropIfSlow: true });
    return payload;
  }

  /** Stops listening to the bus. */
  close(): void {
    this.#unsubscribe();
  }
}
