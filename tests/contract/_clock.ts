/** A clock the contract suites move by hand, handed to store factories that measure TTLs and windows. */
export interface ContractClock {
  now(): number;
  advance(ms: number): void;
}

/** A clock starting at `start` (ms) that only moves when told to. */
export function manualClock(start = 1_700_000_000_000): ContractClock {
  let t = start;
  return { now: () => t, advance: (ms) => void (t += ms) };
}
