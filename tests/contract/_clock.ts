// A clock tests move by hand, for stores whose expiry runs on an injected `now`.

/** A manual clock: `now()` for the store, `advance(ms)` for the test. */
export interface TestClock {
  now: () => number;
  advance(ms: number): void;
}

/** A clock at a fixed start that moves only when told. */
export function testClock(start = 1_700_000_000_000): TestClock {
  let at = start;
  return { now: () => at, advance: (ms) => void (at += ms) };
}
