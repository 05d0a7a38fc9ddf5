/**
 * Failed-auth backoff: too many wrong credentials from one client within a window locks it out for a
 * while. Missing credentials do not count; a client's tries with the shared secret share one counter
 * whatever the credential kind. The counting is a {@link RateLimitStore}'s, so a lockout holds on every
 * replica sharing the store.
 *
 * @module
 */
import { GatewayError } from "../errors.ts";
import { jsonResponse } from "../http/response.ts";
import type { RateLimitPolicy, RateLimitState, RateLimitStore } from "../state/rate-limit.ts";
import type { ClientAttribution } from "./client-address.ts";
import { addressBucket } from "../net/address-bucket.ts";
import { isLoopbackAddress } from "./locality.ts";
import { OneAtATime } from "./one-at-a-time.ts";

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

/** What the backoff needs from the gateway. */
export interface AuthBackoffDeps {
  /** Where failures are counted, and under which policy. */
  rateLimits: RateLimitStore;
  rateLimitPolicy: RateLimitPolicy;
  exemptLoopback(): boolean;
}

/** Counts failed attempts per client and refuses a client that made too many. */
export class AuthBackoff {
  readonly #attempts = new OneAtATime();
  /** Backoff over `deps.rateLimits` under `deps.rateLimitPolicy`. */
  constructor(private readonly deps: AuthBackoffDeps) {}

  /**
   * One failure counter per attributed client (token or password alike, so switching credential kinds
   * buys no fresh tries): an IPv4 address, or an IPv6 address's /64, since a host on an IPv6 LAN can take
   * any address of its /64 and would otherwise get fresh tries from each. An `Origin` header changes
   * nothing there: anyone may send one. Only direct local callers may be exempt (a proxied request is
   * whoever the proxy says), and a local browser never is: its sockets share a `browser:` counter
   * whatever their origin, so a page cannot multiply its tries across subdomains.
   */
  key(who: ClientAttribution, headers: Headers): string | undefined {
    if (!who.proxied && isLoopbackAddress(who.address)) {
      // Attribution's `has` loop copied the header list into JS: this `get` scans that copy.
      if (headers.get("origin") !== null) return `browser:${who.address}`;
      if (this.deps.exemptLoopback()) return undefined;
      return `ip:${who.address}`;
    }
    return `ip:${addressBucket(who.address)}`;
  }

  /**
   * Runs `attempt` once every earlier attempt under `key` settled: check, compare and count then cannot
   * interleave (see {@link OneAtATime}). An exempt caller has no key and waits on nothing.
   */
  run<T>(key: string | undefined, attempt: () => Promise<T>): Promise<T> {
    return this.#attempts.run(key, attempt);
  }

  /** Where `key` stands. */
  peek(key: string): Promise<RateLimitState> {
    return this.deps.rateLimits.peek(key, this.deps.rateLimitPolicy);
  }

  /** Where `key` stands; throws a socket's lockout error when it is locked out. */
  async checkLockout(key: string): Promise<RateLimitState> {
    const state = await this.peek(key);
    const retryAfterMs = state.retryAfterMs;
    if (retryAfterMs > 0) {
      throw new GatewayError(
        "INVALID_REQUEST",
        "unauthorized: too many failed authentication attempts (retry later)",
        {
          retryable: true,
          retryAfterMs,
          details: {
            code: "AUTH_RATE_LIMITED",
            authReason: "rate_limited",
            recommendedNextStep: "wait_then_retry",
          },
        },
      );
    }
    return state;
  }

  /** Counts a wrong credential against `key`. */
  async fail(key: string): Promise<void> {
    await this.deps.rateLimits.hit(key, this.deps.rateLimitPolicy);
  }

  /** Forgets `key`'s failures; callers skip it when there were none, so a success costs no store write. */
  succeed(key: string): Promise<void> {
    return this.deps.rateLimits.reset(key);
  }
}

/** An HTTP caller's answer while locked out: 429 with `Retry-After` in whole seconds. */
export function lockedOutResponse(retryAfterMs: number): Response {
  return jsonResponse(
    { error: { message: "Too many failed authentication attempts", type: "rate_limited" } },
    429,
    { "Retry-After": String(Math.ceil(retryAfterMs / 1000)) },
  );
}
