/**
 * Prometheus metrics for the gateway.
 *
 * ```ts
 * const metrics = metricsModule({ agents });
 * createGateway({ modules: [agents, metrics, hooksModule({ agents, metrics: metrics.recorder })] });
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
