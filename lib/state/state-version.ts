/**
 * `stateVersion`: counters clients use to tell a newer `presence` or `health` snapshot from an older one
 * (`hello-ok.snapshot.stateVersion` and the same field on those events). Behind a store so replicas
 * sharing one count the same way.
 *
 * @module
 */

/** The counters protocol v4 defines; each starts at 1. */
export interface StateVersions {
  /** Bumped on every presence change. */
  presence: number;
  /** Bumped on every broadcast health snapshot. */
  health: number;
}

/** Where the counters live; in-process by default. Every method resolves a copy, never the live counters. */
export interface StateVersionStore {
  /** The counters as they are now. */
  current(): Promise<StateVersions>;
  /** Adds one to `key` atomically; resolves every counter as it was right after this bump. */
  bump(key: keyof StateVersions): Promise<StateVersions>;
}

/** The in-process counters. */
export class MemoryStateVersionStore implements StateVersionStore {
  #versions: StateVersions = { presence: 1, health: 1 };

  current(): Promise<StateVersions> {
    return Promise.resolve({ ...this.#versions });
  }

  bump(key: keyof StateVersions): Promise<StateVersions> {
    this.#versions[key]++;
    return this.current();
  }
}
