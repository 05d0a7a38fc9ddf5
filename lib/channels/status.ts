/**
 * Bookkeeping every channel shares: start/stop/inbound/outbound times and the last error.
 *
 * @module
 */
import type { ChannelAccountStatus, ChannelProbe } from "./types.ts";

/** The account every single-account channel reports. */
export const DEFAULT_ACCOUNT_ID = "default";

/** Tracks one account's state for `status()`. */
export class ChannelStatusTracker {
  readonly #state: ChannelAccountStatus;

  constructor(
    private readonly now: () => number,
    base: Partial<ChannelAccountStatus> & { configured: boolean },
  ) {
    this.#state = {
      accountId: DEFAULT_ACCOUNT_ID,
      enabled: true,
      running: false,
      lastError: null,
      lastStartAt: null,
      lastStopAt: null,
      lastInboundAt: null,
      lastOutboundAt: null,
      ...base,
    };
  }

  started(): void {
    Object.assign(this.#state, { running: true, lastStartAt: this.now(), lastError: null });
  }

  stopped(): void {
    Object.assign(this.#state, { running: false, connected: false, lastStopAt: this.now() });
  }

  connected(value: boolean): void {
    this.#state.connected = value;
  }

  failed(error: unknown): void {
    this.#state.lastError = error instanceof Error ? error.message : String(error);
  }

  inbound(): void {
    this.#state.lastInboundAt = this.now();
  }

  outbound(): void {
    this.#state.lastOutboundAt = this.now();
  }

  probed(probe: ChannelProbe): void {
    this.#state.lastProbeAt = this.now();
    this.#state.probe = probe;
  }

  snapshot(): ChannelAccountStatus {
    return { ...this.#state };
  }
}

/** Times a probe and turns a thrown error into a failed probe. */
export async function timedProbe(
  now: () => number,
  check: () => Promise<Record<string, unknown> | undefined>,
): Promise<ChannelProbe> {
  const started = now();
  try {
    const identity = await check();
    return { ok: true, elapsedMs: now() - started, ...(identity ? { identity } : {}) };
  } catch (error) {
    return {
      ok: false,
      elapsedMs: now() - started,
      error: error instanceof Error ? error.message : String(error),
    };
  }
}

/** A config value that must be a plain string by now (the runner resolves SecretRefs first). */
export function secretString(value: unknown): string | undefined {
  return typeof value === "string" && value.trim() ? value.trim() : undefined;
}
