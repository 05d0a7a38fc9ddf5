// A singleton job whose run fails lets its lease go, so the job starts again (here or on another replica)
// instead of stopping on every replica while the failed holder keeps renewing the lease.
import assert from "node:assert/strict";
import { MemoryLeaseStore } from "../lib/state/leases.ts";
import { runSingleton } from "../lib/state/singleton.ts";

Deno.test("singleton: a run that throws releases the lease and the job runs again", async () => {
  const store = new MemoryLeaseStore();
  const errors: unknown[] = [];
  let runs = 0;
  const again = Promise.withResolvers<void>();
  const job = runSingleton({
    store,
    name: "cron",
    owner: "a",
    ttlMs: 600,
    onError: (error) => errors.push(error),
    run: () => {
      if (++runs === 1) throw new Error("run failed");
      again.resolve();
    },
  });
  try {
    const timeout = new Promise((_, reject) =>
      setTimeout(() => reject(new Error("the job never ran again")), 2_000)
    );
    await Promise.race([again.promise, timeout]);
    assert.equal(runs, 2);
    assert.equal((errors[0] as Error).message, "run failed");
  } finally {
    await job.stop();
  }
});
