/**
 * Prometheus metrics for the gateway: `GET /api/diagnostics/prometheus` ({@link PROMETHEUS_PATH}, gateway
 * auth) and the `metrics.snapshot` method.
 * Runs, durations, model calls and tokens are counted whenever an agents module is installed, listed
 * before or after this one; pass `metrics.recorder` to hooks and channels to count theirs.
 *
 * @example Scrape the gateway's own metrics
 * ```ts
 * import {
 *   createGateway,
 *   memoryTransport,
 *   metricsModule,
 *   parseExposition,
 *   PROMETHEUS_PATH,
 * } from "@openclaw-ts/gateway";
 *
 * const transport = memoryTransport();
 * const metrics = metricsModule();
 * const requests = metrics.registry.counter("app_greetings_total", "Greetings sent.", ["lang"]);
 * const gateway = createGateway({
 *   transport,
 *   config: { gateway: { auth: { token: "s3cret" } } },
 *   modules: [metrics],
 * });
 * await gateway.start();
 *
 * requests.inc({ lang: "en" });
 * const scrape = await transport.fetch(PROMETHEUS_PATH, { headers: { authorization: "Bearer s3cret" } });
 * const samples = parseExposition(await scrape.text());
 * const greeted = samples.find((sample) => sample.name === "app_greetings_total");
 * if (greeted?.value !== 1 || greeted.labels.lang !== "en") throw new Error(JSON.stringify(greeted));
 * await gateway.stop();
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
