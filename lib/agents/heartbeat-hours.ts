/**
 * Heartbeat `activeHours`: whether a moment falls inside a daily window in the local time of a zone, as
 * OpenClaw decides it (start inclusive, end exclusive, `24:00` allowed as an end, a window past midnight
 * wraps, equal ends are an empty window, an unknown zone falls back to the user's zone).
 *
 * @module
 */
import type { HeartbeatActiveHours } from "../config/sections/agents.ts";

/** Whether `nowMs` is inside `active`; always true without a window. */
export function withinActiveHours(
  active: HeartbeatActiveHours | undefined,
  nowMs: number,
  userTimezone: string | undefined,
): boolean {
  if (!active) return true;
  const start = minutes(active.start);
  const end = minutes(active.end);
  if (start === undefined || end === undefined) return true;
  if (start === end) return false;
  const now = minuteOfDay(nowMs, zone(active.timezone, userTimezone));
  return end > start ? now >= start && now < end : now >= start || now < end;
}

function minutes(hhmm: string): number | undefined {
  const match = /^(\d{2}):(\d{2})$/.exec(hhmm);
  return match ? Number(match[1]) * 60 + Number(match[2]) : undefined;
}

/** The zone to read the clock in; `undefined` is the host's. */
function zone(timezone: string | undefined, userTimezone: string | undefined): string | undefined {
  if (timezone === "local") return undefined;
  if (timezone && timezone !== "user" && validZone(timezone)) return timezone;
  return userTimezone && validZone(userTimezone) ? userTimezone : undefined;
}

function validZone(timeZone: string): boolean {
  try {
    new Intl.DateTimeFormat("en-US", { timeZone });
    return true;
  } catch {
    return false;
  }
}

function minuteOfDay(nowMs: number, timeZone: string | undefined): number {
  const parts = new Intl.DateTimeFormat("en-US", {
    timeZone,
    hour: "2-digit",
    minute: "2-digit",
    hourCycle: "h23",
  })
    .formatToParts(nowMs);
  const part = (type: string) => Number(parts.find((p) => p.type === type)?.value ?? 0);
  return part("hour") * 60 + part("minute");
}
