// A turn that holds its session's lease until the test lets it end, for the session-lease tests.
import type { SessionLeases } from "../lib/agents/session-lease.ts";

/**
 * A turn on session "s1" under `leases` that runs until `finish()`; `signal()` is the lease-lost signal it
 * was handed, once it started.
 */
export function heldTurn(leases: SessionLeases): {
  done: Promise<void>;
  signal(): AbortSignal | undefined;
  finish(): void;
} {
  let signal: AbortSignal | undefined;
  let finish!: () => void;
  const done = leases.hold("s1", new AbortController().signal, (given) => {
    signal = given;
    return new Promise<void>((resolve) => finish = resolve);
  });
  return { done, signal: () => signal, finish: () => finish() };
}
