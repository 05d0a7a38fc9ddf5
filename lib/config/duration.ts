/**
 * Duration strings as OpenClaw writes them in config: `500ms`, `30s`, `5m`, `2h`, `1d`, or composites such
 * as `1h30m`. A bare number takes the caller's default unit (heartbeat cadence: minutes).
 *
 * @module
 */

/** A duration unit and its length in milliseconds. */
const UNIT_MS = { ms: 1, s: 1_000, m: 60_000, h: 3_600_000, d: 86_400_000 } as const;

/** A unit {@link parseDurationMs} understands. */
export type DurationUnit = keyof typeof UNIT_MS;

/**
 * Milliseconds in `raw`, or `undefined` when it is not a duration. Case and surrounding spaces are
 * ignored; `0m` is 0 (callers decide whether zero means off).
 *
 * @example
 * ```ts
 * import { parseDurationMs } from "./duration.ts";
 *
 * if (parseDurationMs("1h30m") !== 5_400_000) throw new Error("composite");
 * if (parseDurationMs("15", "m") !== 900_000) throw new Error("bare number in the default unit");
 * if (parseDurationMs("soon") !== undefined) throw new Error("not a duration");
 * ```
 */
export function parseDurationMs(raw: string, defaultUnit: DurationUnit = "ms"): number | undefined {
  const text = raw.trim().toLowerCase();
  const single = /^(\d+(?:\.\d+)?)(ms|s|m|h|d)?$/.exec(text);
  if (single) return safe(Number(single[1]) * UNIT_MS[(single[2] ?? defaultUnit) as DurationUnit]);
  let total = 0;
  let consumed = 0;
  for (const match of text.matchAll(/(\d+(?:\.\d+)?)(ms|s|m|h|d)/g)) {
    // Every segment carries its unit and they follow each other with nothing in between.
    if (match.index !== consumed) return undefined;
    total += Number(match[1]) * UNIT_MS[match[2] as DurationUnit];
    consumed += match[0].length;
  }
  return consumed > 0 && consumed === text.length ? safe(total) : undefined;
}

function safe(ms: number): number | undefined {
  const rounded = Math.round(ms);
  return Number.isSafeInteger(rounded) ? rounded : undefined;
}
