/**
 * Event-loop delay without runtime APIs: a timer that should fire every `intervalMs` measures how late
 * it runs. Keeps a window of recent lags for p99 and max.
 *
 * @module
 */

/** Recent event-loop lag. */
export interface LoopDelayStats {
  p99Ms: number;
  maxMs: number;
}

/** Samples event-loop lag until `stop()`. */
export class LoopDelaySampler {
  readonly #samples: number[] = [];
  #timer: ReturnType<typeof setTimeout> | undefined;

  constructor(
    private readonly now: () => number,
    private readonly intervalMs = 500,
    private readonly window = 120,
  ) {}

  start(): void {
    const schedule = () => {
      const expected = this.now() + this.intervalMs;
      this.#timer = setTimeout(() => {
        this.#samples.push(Math.max(0, this.now() - expected));
        if (this.#samples.length > this.window) this.#samples.shift();
        schedule();
      }, this.intervalMs);
      // A sampler must never keep a process alive on its own.
      (this.#timer as { unref?: () => void }).unref?.();
    };
    schedule();
  }

  stop(): void {
    clearTimeout(this.#timer);
  }

  stats(): LoopDelayStats {
    if (!this.#samples.length) return { p99Ms: 0, maxMs: 0 };
    const sorted = [...this.#samples].sort((a, b) => a - b);
    return {
      p99Ms: sorted[Math.min(sorted.length - 1, Math.floor(sorted.length * 0.99))],
      maxMs: sorted[sorted.length - 1],
    };
  }
}
