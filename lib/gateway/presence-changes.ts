/**
 * The queue presence changes go through: they apply and publish one at a time, in the order they happened,
 * so a removal is never overtaken by a later upsert of the same key, nor a newer list by an older one.
 * Changes queued while one applies are announced together, once, by the last of them (a client that
 * connects and leaves at once costs one version and one list, not two), each a store round trip fewer —
 * but never deferred beyond {@link PRESENCE_ANNOUNCE_MAX_DEFER}.
 *
 * @module
 */
import type { GatewayCore } from "./core.ts";

/**
 * How long, and over how many changes, a `presence` announcement may wait for the queue to drain: under
 * sustained churn (thousands of sockets reconnecting) the queue may never drain, and other replicas must
 * still hear about the rows.
 */
export const PRESENCE_ANNOUNCE_MAX_DEFER = { ms: 200, changes: 100 } as const;

/** What the queue applies changes with and announces them through. */
export type PresenceChangesCore = Pick<GatewayCore, "now" | "stores" | "noteVersions" | "logger">;

/** Applies presence changes in order and announces them (see the module doc). */
export class PresenceChanges {
  /** The last change queued; each one starts when the one before it is done. */
  #tail: Promise<void> = Promise.resolve();
  /** Changes queued and not yet applied. */
  #queued = 0;
  /** Changes applied and not yet announced, and since when. */
  #unannounced = 0;
  #unannouncedSince = 0;

  constructor(private readonly core: PresenceChangesCore) {}

  /**
   * Queues `change`, which resolves `false` when it turned out to change nothing (it then needs no
   * announcement). A failing change is logged; the changes before it still get announced.
   */
  apply(change: () => Promise<boolean | void>): Promise<void> {
    const { logger } = this.core;
    this.#queued++;
    return this.#tail = this.#tail.then(async () => {
      try {
        if ((await change()) !== false && this.#unannounced++ === 0) this.#unannouncedSince = this.core.now();
      } catch (error) {
        logger.error("presence update failed", { error: String(error) });
      } finally {
        this.#queued--;
      }
      if (this.#unannounced === 0 || this.#mayDefer()) return;
      this.#unannounced = 0;
      await this.#announce();
    }).catch((error) => logger.error("presence update failed", { error: String(error) }));
  }

  /** Resolves once every change queued so far is applied (and announced). */
  settled(): Promise<void> {
    return this.#tail;
  }

  #mayDefer(): boolean {
    return this.#queued > 0 && this.#unannounced < PRESENCE_ANNOUNCE_MAX_DEFER.changes &&
      this.core.now() - this.#unannouncedSince < PRESENCE_ANNOUNCE_MAX_DEFER.ms;
  }

  async #announce(): Promise<void> {
    const { stores, now, noteVersions } = this.core;
    // Sent together (one round trip on Redis): the list is read once the change is in.
    const [versions, rows] = await Promise.all([
      stores.stateVersions.bump("presence"),
      stores.presence.list(now()),
    ]);
    stores.bus.publish({
      event: "presence",
      payload: { presence: rows },
      stateVersion: { presence: noteVersions(versions).presence },
    });
  }
}
