/**
 * A bounded memory of ids already handled, for dropping redelivered updates (a Telegram webhook retried
 * after a slow answer, a batch fetched again after a restart). The oldest id is forgotten first.
 *
 * @module
 */

/** Remembers up to `capacity` ids. */
export class RecentIds {
  readonly #ids = new Set<string>();

  constructor(private readonly capacity: number) {}

  /** Whether `id` was recorded (and not yet forgotten). */
  has(id: string): boolean {
    return this.#ids.has(id);
  }

  /** Records `id`; `false` when it was already there (a duplicate). */
  add(id: string): boolean {
    if (this.#ids.has(id)) return false;
    this.#ids.add(id);
    if (this.#ids.size > this.capacity) this.#ids.delete(this.#ids.values().next().value!);
    return true;
  }
}
