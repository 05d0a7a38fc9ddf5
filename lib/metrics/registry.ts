/**
 * A small Prometheus registry: counters, gauges and histograms with labels, rendered in the text
 * exposition format (0.0.4). Series are capped so a misbehaving label can never grow memory without
 * bound; refused series are counted in `openclaw_prometheus_series_dropped_total`.
 *
 * @module
 */

/** Label values by label name. */
export type Labels = Readonly<Record<string, string>>;

/** The reference gateway's series cap. */
export const DEFAULT_SERIES_CAP = 2048;

/** Default histogram buckets in seconds (request latencies). */
export const LATENCY_BUCKETS: readonly number[] = [
  0.005,
  0.01,
  0.025,
  0.05,
  0.1,
  0.25,
  0.5,
  1,
  2.5,
  5,
  10,
  30,
];

type Kind = "counter" | "gauge" | "histogram";

interface Family {
  name: string;
  help: string;
  kind: Kind;
  labelNames: readonly string[];
  buckets: readonly number[];
  series: Map<string, Series>;
  /** Gauges computed at scrape time. */
  collect?: () => { labels: Labels; value: number }[];
}

interface Series {
  labels: Labels;
  value: number;
  counts: number[];
  sum: number;
}

/** A counter family. */
export interface Counter {
  /** Adds `by` (default 1) to the series with these label values. */
  inc(labels?: Labels, by?: number): void;
}

/** A gauge family. */
export interface Gauge {
  /** Sets the series with these label values to `value`. */
  set(labels: Labels, value: number): void;
  /** Adds `by` (negative to subtract) to the series with these label values. */
  add(labels: Labels, by: number): void;
}

/** A histogram family. */
export interface Histogram {
  /** Counts one observation of `value` (seconds for latencies) in the series with these label values. */
  observe(labels: Labels, value: number): void;
}

/** Holds metric families and renders them. */
export class MetricsRegistry {
  readonly #families = new Map<string, Family>();
  #seriesCount = 0;
  readonly #dropped: Counter;

  /**
   * Makes an empty registry that keeps at most `seriesCap` series (default 2048); more are counted as
   * dropped.
   */
  constructor(private readonly seriesCap: number = DEFAULT_SERIES_CAP) {
    this.#dropped = this.counter(
      "openclaw_prometheus_series_dropped_total",
      "Series refused because the registry reached its series cap.",
    );
  }

  /** Registers a counter family; throws when `name` is already registered. */
  counter(name: string, help: string, labelNames: readonly string[] = []): Counter {
    const family = this.#family(name, help, "counter", labelNames);
    return { inc: (labels = {}, by = 1) => this.#series(family, labels, (s) => s.value += by) };
  }

  /** Registers a gauge family; throws when `name` is already registered. */
  gauge(name: string, help: string, labelNames: readonly string[] = []): Gauge {
    const family = this.#family(name, help, "gauge", labelNames);
    return {
      set: (labels, value) => this.#series(family, labels, (s) => s.value = value),
      add: (labels, by) => this.#series(family, labels, (s) => s.value += by),
    };
  }

  /** A gauge whose values are read at scrape time (uptime, memory, loop delay). */
  collectedGauge(name: string, help: string, collect: () => { labels: Labels; value: number }[]): void {
    this.#family(name, help, "gauge", []).collect = collect;
  }

  /**
   * Registers a histogram family with upper bucket bounds `buckets` (default: latency buckets in seconds);
   * throws when `name` is taken.
   */
  histogram(
    name: string,
    help: string,
    labelNames: readonly string[] = [],
    buckets: readonly number[] = LATENCY_BUCKETS,
  ): Histogram {
    const family = this.#family(name, help, "histogram", labelNames, buckets);
    return {
      observe: (labels, value) =>
        this.#series(family, labels, (s) => {
          s.sum += value;
          s.value++;
          const index = family.buckets.findIndex((upper) => value <= upper);
          if (index >= 0) s.counts[index]++;
        }),
    };
  }

  /** The text exposition of every family. */
  render(): string {
    const lines: string[] = [];
    for (const family of this.#families.values()) {
      lines.push(`# HELP ${family.name} ${escapeHelp(family.help)}`, `# TYPE ${family.name} ${family.kind}`);
      if (family.collect) {
        for (const { labels, value } of family.collect()) {
          lines.push(`${family.name}${formatLabels(labels)} ${formatValue(value)}`);
        }
        continue;
      }
      for (const series of family.series.values()) {
        if (family.kind !== "histogram") {
          lines.push(`${family.name}${formatLabels(series.labels)} ${formatValue(series.value)}`);
          continue;
        }
        let cumulative = 0;
        family.buckets.forEach((upper, i) => {
          cumulative += series.counts[i];
          const labels = { ...series.labels, le: formatValue(upper) };
          lines.push(`${family.name}_bucket${formatLabels(labels)} ${cumulative}`);
        });
        lines.push(`${family.name}_bucket${formatLabels({ ...series.labels, le: "+Inf" })} ${series.value}`);
        lines.push(`${family.name}_sum${formatLabels(series.labels)} ${formatValue(series.sum)}`);
        lines.push(`${family.name}_count${formatLabels(series.labels)} ${series.value}`);
      }
    }
    return lines.join("\n") + "\n";
  }

  #family(
    name: string,
    help: string,
    kind: Kind,
    labelNames: readonly string[],
    buckets: readonly number[] = [],
  ): Family {
    if (this.#families.has(name)) throw new Error(`metric ${name} is already registered`);
    const family: Family = { name, help, kind, labelNames, buckets, series: new Map() };
    this.#families.set(name, family);
    return family;
  }

  #series(family: Family, labels: Labels, update: (series: Series) => void): void {
    const key = family.labelNames.map((n) => labels[n] ?? "").join("\u0000");
    let series = family.series.get(key);
    if (!series) {
      if (this.#seriesCount >= this.seriesCap && family.name !== "openclaw_prometheus_series_dropped_total") {
        this.#dropped.inc();
        return;
      }
      const own: Record<string, string> = {};
      for (const name of family.labelNames) own[name] = labels[name] ?? "";
      series = { labels: own, value: 0, counts: family.buckets.map(() => 0), sum: 0 };
      family.series.set(key, series);
      this.#seriesCount++;
    }
    update(series);
  }
}

function formatLabels(labels: Labels): string {
  const entries = Object.entries(labels);
  if (!entries.length) return "";
  return `{${entries.map(([k, v]) => `${k}="${escapeLabel(v)}"`).join(",")}}`;
}

function escapeLabel(value: string): string {
  return value.replace(/\\/g, "\\\\").replace(/"/g, '\\"').replace(/\n/g, "\\n");
}

function escapeHelp(value: string): string {
  return value.replace(/\\/g, "\\\\").replace(/\n/g, "\\n");
}

function formatValue(value: number): string {
  if (Number.isNaN(value)) return "NaN";
  if (value === Infinity) return "+Inf";
  if (value === -Infinity) return "-Inf";
  return String(value);
}
