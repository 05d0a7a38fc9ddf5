/**
 * Prometheus metrics for the gateway.
 *
 * ```ts
 * // Runs are counted whenever an agents module is installed, listed before or after this one.
 * const metrics = metricsModule();
 * createGateway({ modules: [metrics, agents, hooksModule({ agents, metrics: metrics.recorder })] });
 * ```
 *
 * @module
 */
export {
  type MemoryUsage,
  type MetricsModule,
  metricsModule,
  type MetricsModuleOptions,
  PROMETHEUS_CONTENT_TYPE,
  PROMETHEUS_PATH,
} from "./metrics-module.ts";
export type { MetricsRecorder } from "./recorder.ts";
export {
  type Counter,
  DEFAULT_SERIES_CAP,
  type Gauge,
  type Histogram,
  type Labels,
  LATENCY_BUCKETS,
  MetricsRegistry,
} from "./registry.ts";
export { parseExposition, type Sample } from "./parse.ts";
