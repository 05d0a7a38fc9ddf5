/**
 * Runs the credential attempts that share a rate-limit key one at a time. Checking a lockout, comparing
 * the credential and counting a failure each wait on a store; without this, N parallel guesses from one
 * address would all pass the lockout check before the first failure is counted.
 *
 * @module
 */

/** One queue per key; a key with nothing pending holds no memory. */
export class OneAtATime {
  readonly #tails = new Map<string, Promise<void>>();

  /** Runs `attempt` after every earlier attempt under `key` has settled; no key runs at once. */
  async run<T>(key: string | undefined, attempt: () => Promise<T>): Promise<T> {
    if (key === undefined) return await attempt();
    const previous = this.#tails.get(key);
    let end!: () => void;
    const mine = new Promise<void>((resolve) => (end = resolve));
    this.#tails.set(key, mine);
    try {
      await previous;
      return await attempt();
    } finally {
      end();
      if (this.#tails.get(key) === mine) this.#tails.delete(key);
    }
  }
}
