/**
 * The event-loop health the reference reports as `health.eventLoop`: a 20 ms timer records the gap
 * between its runs; every window of at least a second gives the gaps' p99 and max, the process's CPU
 * use over the window (`cpuCoreRatio`: cores busy, from the transport's CPU clock) and `utilization`, the
 * share of the window the loop was busy past its timer. Not every runtime measures event-loop
 * utilization (Deno reports zeros), so that figure is the timers' lateness, which every runtime shows.
 * Degraded as the reference judges it: a gap of a second, or a loaded loop (gaps of 25 ms) that is
 * busy ≥ 95 % or uses ≥ 0.9 cores.
 *
 * @module
 */

const RESOLUTION_MS = 20;
const WINDOW_MS = 1_000;
const DELAY_WARN_MS = 1_000;
const LOADED_DELAY_MS = 25;
const UTILIZATION_WARN = 0.95;
const CPU_CORE_RATIO_WARN = 0.9;

/** One window's figures, in the reference's shape. */
export interface EventLoopHealth {
  degraded: boolean;
  degradedSinceMs: number | null;
  reasons: ("event_loop_delay" | "event_loop_utilization" | "cpu")[];
  intervalMs: number;
  delayP99Ms: number;
  delayMaxMs: number;
  utilization: number;
  cpuCoreRatio: number;
}

/** Samples the loop while started; `snapshot()` is the last full window (none before the first). */
export interface EventLoopMonitor {
  start(): void;
  stop(): void;
  snapshot(): EventLoopHealth | undefined;
}

const round = (value: number, digits = 3) => Math.round(value * 10 ** digits) / 10 ** digits;

/** A monitor over `cpuMicros` (CPU time the process used so far, µs) and a millisecond clock. */
export function createEventLoopMonitor(
  cpuMicros: () => number,
  now: () => number = () => performance.now(),
): EventLoopMonitor {
  let timer: ReturnType<typeof setInterval> | undefined;
  let gaps: number[] = [];
  let lastSample = 0;
  let windowStart = 0;
  let cpuStart = 0;
  let degradedSince: number | null = null;
  let last: EventLoopHealth | undefined;

  const close = (at: number) => {
    const intervalMs = at - windowStart;
    const sorted = gaps.sort((a, b) => a - b);
    const delayP99Ms = round(sorted[Math.min(sorted.length - 1, Math.floor(sorted.length * 0.99))], 1);
    const delayMaxMs = round(sorted[sorted.length - 1], 1);
    const late = sorted.reduce((sum, gap) => sum + Math.max(0, gap - RESOLUTION_MS), 0);
    const utilization = round(Math.min(1, late / intervalMs));
    const cpuCoreRatio = round(Math.max(0, cpuMicros() / 1000 - cpuStart) / intervalMs);
    const reasons: EventLoopHealth["reasons"] = [];
    if (delayMaxMs >= DELAY_WARN_MS) reasons.push("event_loop_delay");
    if (delayMaxMs >= LOADED_DELAY_MS && utilization >= UTILIZATION_WARN) {
      reasons.push("event_loop_utilization");
    }
    if (delayMaxMs >= LOADED_DELAY_MS && cpuCoreRatio >= CPU_CORE_RATIO_WARN) reasons.push("cpu");
    degradedSince = reasons.length ? degradedSince ?? at : null;
    last = {
      degraded: reasons.length > 0,
      degradedSinceMs: degradedSince === null ? null : Math.round(at - degradedSince),
      reasons,
      intervalMs: round(intervalMs),
      delayP99Ms,
      delayMaxMs,
      utilization,
      cpuCoreRatio,
    };
    gaps = [];
    windowStart = at;
    cpuStart = cpuMicros() / 1000;
  };

  return {
    start() {
      if (timer !== undefined) return;
      lastSample = windowStart = now();
      cpuStart = cpuMicros() / 1000;
      timer = setInterval(() => {
        const at = now();
        gaps.push(at - lastSample);
        lastSample = at;
        if (at - windowStart >= WINDOW_MS) close(at);
      }, RESOLUTION_MS);
    },
    stop() {
      clearInterval(timer);
      timer = undefined;
      gaps = [];
      last = undefined;
      degradedSince = null;
    },
    snapshot: () => last,
  };
}

/** `{eventLoop}` for the reports that carry it (`health`, `status`), or nothing before the first window. */
export function eventLoopSection(monitor: EventLoopMonitor | undefined): { eventLoop?: EventLoopHealth } {
  const eventLoop = monitor?.snapshot();
  return eventLoop ? { eventLoop } : {};
}
