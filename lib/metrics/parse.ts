/**
 * Reads the Prometheus text exposition back into samples (tests, the CLI, benchmarks).
 *
 * @module
 */

/** One sample line. */
export interface Sample {
  /** Metric name, with any `_bucket`/`_sum`/`_count` suffix. */
  name: string;
  /** Label values by label name; empty when the line has none. */
  labels: Record<string, string>;
  /** The sample's value. */
  value: number;
}

const LINE = /^([a-zA-Z_:][a-zA-Z0-9_:]*)(?:\{(.*)\})?\s+(\S+)(?:\s+\d+)?$/;
const LABEL = /([a-zA-Z_][a-zA-Z0-9_]*)="((?:[^"\\]|\\.)*)"/g;

/**
 * Parses the exposition; throws on a line that is neither a comment nor a valid sample.
 *
 * @example
 * ```ts
 * import { parseExposition } from "@openclaw-ts/gateway";
 *
 * const [sample] = parseExposition('# TYPE runs_total counter\nruns_total{agent="main"} 3\n');
 * if (sample.name !== "runs_total" || sample.labels.agent !== "main" || sample.value !== 3) {
 *   throw new Error(JSON.stringify(sample));
 * }
 * ```
 */
export function parseExposition(text: string): Sample[] {
  const samples: Sample[] = [];
  for (const raw of text.split("\n")) {
    const line = raw.trim();
    if (!line || line.startsWith("#")) continue;
    const match = LINE.exec(line);
    if (!match) throw new Error(`not a Prometheus sample line: ${line}`);
    const labels: Record<string, string> = {};
    for (const [, key, value] of (match[2] ?? "").matchAll(LABEL)) {
      labels[key] = value.replace(/\\n/g, "\n").replace(/\\"/g, '"').replace(/\\\\/g, "\\");
    }
    const value = match[3] === "+Inf" ? Infinity : match[3] === "-Inf" ? -Infinity : Number(match[3]);
    if (Number.isNaN(value) && match[3] !== "NaN") throw new Error(`bad sample value in: ${line}`);
    samples.push({ name: match[1], labels, value });
  }
  return samples;
}
