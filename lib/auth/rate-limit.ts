/**
 * Failed-auth backoff: too many bad credentials from one client within a window locks it out for a
 * while. Missing credentials do not count; each credential class has its own counter. The counting is
 * a {@link RateLimitStore}'s, so a lockout holds on every replica sharing the store.
 *
 * @module
 */
import type { RateLimitPolicy } from "../state/rate-limit.ts";

/** Protocol v4's defaults: 10 failures per 60 s → 300 s lockout. */
export const DEFAULT_RATE_LIMIT = {
  max: 10,
  windowMs: 60_000,
  lockoutMs: 300_000,
} as const satisfies RateLimitPolicy;

/** The auth failure policy from `gateway.auth.rateLimit`, defaults filled. */
export function authRateLimitPolicy(
  config: { maxAttempts?: number; windowMs?: number; lockoutMs?: number } | undefined,
): Required<RateLimitPolicy> {
  return {
    max: config?.maxAttempts ?? DEFAULT_RATE_LIMIT.max,
    windowMs: config?.windowMs ?? DEFAULT_RATE_LIMIT.windowMs,
    lockoutMs: config?.lockoutMs ?? DEFAULT_RATE_LIMIT.lockoutMs,
  };
}
