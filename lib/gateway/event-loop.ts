/**
 * The event-loop health the reference reports as `health.eventLoop`: a 20 ms timer records the gap
 * between its runs; every window of at least a second gives the gaps' p99 and max, the process's CPU
 * use over the window (`cpuCoreRatio`: cores busy, from the transport's CPU clock) and `utilization`, the
 * share of the window the loop was busy past its timer. Not every runtime measures event-loop
 * utilization (Deno reports zeros), so that figure is the timers' lateness, which every runtime shows.
 * Degraded as the reference judges it: a gap of a second, or a loaded loop (gaps of 25 ms) that is
 * busy ≥ 95 % or uses ≥ 0.9 cores.
 *
 * The same timer is the gateway's only loop sampler: it also keeps the last minute of lags (how late each
 * run was past its 20 ms), which the metrics module exports as its event-loop delay gauges. The 20 ms
 * resolution is the reference's (`EVENT_LOOP_MONITOR_RESOLUTION_MS`).
 *
 * @module
 */
import type { LoopDelayStats } from "../types.ts";

const RESOLUTION_MS = 20;
const WINDOW_MS = 1_000;
const DELAY_WARN_MS = 1_000;
const LOADED_DELAY_MS = 25;
const UTILIZATION_WARN = 0.95;
const CPU_CORE_RATIO_WARN = 0.9;
/** One minute of lags at one per run. */
const LAGS_KEPT = 60_000 / RESOLUTION_MS;

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
  /** p99 and max lag over the last minute (zeros before the first sample). */
  recentDelay(): LoopDelayStats;
}

const round = (value: number, digits = 3) => Math.round(value * 10 ** digits) / 10 ** digits;

/**
 * A monitor over `cpuMicros` (CPU time the process used so far, µs; without it `cpuCoreRatio` is 0) and a
 * millisecond clock.
 */
export function createEventLoopMonitor(
  cpuMicros: () => number = () => 0,
  now: () => number = () => performance.now(),
): EventLoopMonitor {
  let timer: ReturnType<typeof setInterval> | undefined;
  let gaps: number[] = [];
  let lastSample = 0;
  let windowStart = 0;
  let cpuStart = 0;
  let degradedSince: number | null = null;
  let last: EventLoopHealth | undefined;
  const lags = new Float64Array(LAGS_KEPT);
  let lagCount = 0;

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
        lags[lagCount++ % LAGS_KEPT] = Math.max(0, at - lastSample - RESOLUTION_MS);
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
      lagCount = 0;
    },
    snapshot: () => last,
    recentDelay() {
      const sorted = lags.slice(0, Math.min(lagCount, LAGS_KEPT)).sort();
      if (!sorted.length) return { p99Ms: 0, maxMs: 0 };
      return {
        p99Ms: sorted[Math.min(sorted.length - 1, Math.floor(sorted.length * 0.99))],
        maxMs: sorted[sorted.length - 1],
      };
    },
  };
}

/** `{eventLoop}` for the reports that carry it (`health`, `status`), or nothing before the first window. */
export function eventLoopSection(monitor: EventLoopMonitor | undefined): { eventLoop?: EventLoopHealth } {
  const eventLoop = monitor?.snapshot();
  return eventLoop ? { eventLoop } : {};
}
