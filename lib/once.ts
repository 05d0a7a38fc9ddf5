/**
 * Loading something once: code imported on first use (lazy methods, cron, nodes, the OpenAI endpoints).
 * Concurrent first uses share one load, and a load that fails (an import that did not resolve) is tried
 * again on the next use instead of failing for good.
 *
 * @module
 */

/** A load run at most once at a time and kept once it succeeded. */
export interface Once<T> {
  /** The load under way or done, started now when there is none. */
  (): Promise<T>;
  /** The load under way or done, without starting one. */
  readonly started: Promise<T> | undefined;
}

/** Wraps `load` so it runs once: on the first call, and again after a call whose load failed. */
export function once<T>(load: () => Promise<T>): Once<T> {
  let loading: Promise<T> | undefined;
  const get = () =>
    loading ??= load().catch((error) => {
      loading = undefined;
      throw error;
    });
  return Object.defineProperty(get, "started", { get: () => loading }) as Once<T>;
}
