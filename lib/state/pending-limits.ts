/**
 * The caps on requests that wait for an operator (device pairings, exec approvals): how many may wait from
 * one client address bucket (`addressBucket`: an IPv6 address counts by its /64) and how many in all.
 *
 * A full bucket refuses its new requests rather than dropping its own old ones, so a flood cannot push out
 * the request an operator is about to approve. The total cap cannot simply refuse too: requests from a
 * handful of buckets (a few /64s) would fill it and lock every new device out. So on a full gateway a
 * request from a bucket holding fewer than the largest one takes the place of that bucket's oldest request,
 * but only when that bucket holds more than one: a lone request is never pushed out, or an attacker with
 * more buckets than the total cap (129 IPv4 addresses on a LAN, a /56 of IPv6) could purge every
 * legitimate request continuously. Otherwise the request is refused by the total cap.
 *
 * The Redis stores run the same rule in Lua (`redis/pending-limits.ts`); the contract suites hold both to it.
 *
 * @module
 */
import { GatewayError } from "../errors.ts";

/** The caps of one kind of waiting request and the words of its refusal. */
export interface PendingLimits {
  /** How many may wait from one client address bucket. */
  perBucket: number;
  /** How many may wait in all. */
  total: number;
  /** The refusal's `details.code`. */
  code: string;
  /** What waits, as the message names it ("device pairing requests"). */
  what: string;
  /** What the client can do about a refusal, ending the message. */
  remedy: string;
}

/** Which cap refused a request: its client address bucket's, or the whole gateway's. */
export type PendingLimit = "address" | "total";

/** A waiting request as the caps see it. */
export interface PendingSlot {
  /** Its id, the one a full gateway drops. */
  id: string;
  /** Its client address bucket (`addressBucket`). */
  bucket: string;
  /** When it stops waiting unanswered. */
  expiresAtMs: number;
}

/** The retryable error of a request a cap refused; `retryAfterMs` is when the first blocking one expires. */
export function pendingLimitError(
  limits: PendingLimits,
  limit: PendingLimit,
  retryAfterMs: number,
): GatewayError {
  const where = limit === "address" ? "from this client address" : "on this gateway";
  const max = limit === "address" ? limits.perBucket : limits.total;
  return new GatewayError(
    "UNAVAILABLE",
    `too many pending ${limits.what} ${where} (${max}); ${limits.remedy}`,
    {
      retryable: true,
      retryAfterMs: Math.max(1, retryAfterMs),
      details: { code: limits.code, limit, max },
    },
  );
}

/** Orders slots oldest first: earliest expiry, then id, so every store picks the same one. */
const older = (a: PendingSlot, b: PendingSlot) =>
  a.expiresAtMs !== b.expiresAtMs ? a.expiresAtMs < b.expiresAtMs : a.id < b.id;

const oldest = (slots: readonly PendingSlot[]) => slots.reduce((a, b) => older(a, b) ? a : b);

/**
 * Whether a request from `bucket` may wait beside `others` (the live requests it would not replace) at
 * `now`: resolves to nothing, or to the id of the request it takes the place of on a full gateway. Throws
 * {@link pendingLimitError} when a cap refuses it.
 */
export function checkPendingLimits(
  limits: PendingLimits,
  bucket: string,
  others: readonly PendingSlot[],
  now: number,
): string | undefined {
  const counts = new Map<string, number>();
  for (const other of others) counts.set(other.bucket, (counts.get(other.bucket) ?? 0) + 1);
  const mine = counts.get(bucket) ?? 0;
  if (mine >= limits.perBucket) {
    const blocking = oldest(others.filter((other) => other.bucket === bucket));
    throw pendingLimitError(limits, "address", blocking.expiresAtMs - now);
  }
  if (others.length < limits.total) return undefined;
  const largest = Math.max(...counts.values());
  if (largest > mine && largest > 1) {
    return oldest(others.filter((other) => counts.get(other.bucket) === largest)).id;
  }
  throw pendingLimitError(limits, "total", oldest(others).expiresAtMs - now);
}
