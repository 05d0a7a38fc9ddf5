/**
 * The `stores` bundle: every piece of state the gateway shares, each behind an async interface so a
 * network store (Redis/Valkey, for replicas) can stand in for the in-process one. `GatewayOptions.stores`
 * takes a partial bundle; {@link completeStores} fills the rest with {@link memoryStores}.
 *
 * @module
 */
import { type DeviceStore, MemoryDeviceStore } from "./devices.ts";
import { type IdempotencyStore, MemoryIdempotencyStore } from "./idempotency.ts";
import { MemoryPresenceStore, type PresenceStore } from "./presence.ts";
import { MemoryRateLimitStore, type RateLimitStore } from "./rate-limit.ts";
import { MemoryStateVersionStore, type StateVersionStore } from "./state-version.ts";

/** Every shared-state seam of a gateway. */
export interface GatewayStores {
  /** Who is connected (`presence` / `system-presence`, `hello-ok.snapshot.presence`). */
  presence: PresenceStore;
  /** Paired devices and their device tokens. */
  devices: DeviceStore;
  /** First outcomes of keyed requests (`idempotencyKey` on methods, hook deliveries). */
  idempotency: IdempotencyStore;
  /** Auth failure lockouts, the hooks token limiter and the config write limit. */
  rateLimits: RateLimitStore;
  /** The `stateVersion` counters. */
  stateVersions: StateVersionStore;
  // Sessions and transcripts, runs, per-session leases and the event bus join here (`sessions`,
  // `transcripts`, `runs`, `leases`, `bus`).
}

/** What {@link memoryStores} needs: the clock TTLs and windows are measured on. */
export interface MemoryStoresOptions {
  /** Milliseconds since the epoch; `Date.now` by default. */
  now?: () => number;
}

/** A complete bundle of in-process stores. */
export function memoryStores(options: MemoryStoresOptions = {}): GatewayStores {
  const now = options.now ?? (() => Date.now());
  return {
    presence: new MemoryPresenceStore(),
    devices: new MemoryDeviceStore(),
    idempotency: new MemoryIdempotencyStore(now),
    rateLimits: new MemoryRateLimitStore(now),
    stateVersions: new MemoryStateVersionStore(),
  };
}

/** `partial`'s stores, and in-process ones for every member it leaves out. */
export function completeStores(
  partial: Partial<GatewayStores> = {},
  options: MemoryStoresOptions = {},
): GatewayStores {
  const defaults = memoryStores(options);
  const given = Object.fromEntries(Object.entries(partial).filter(([, store]) => store !== undefined));
  return { ...defaults, ...given } as GatewayStores;
}
