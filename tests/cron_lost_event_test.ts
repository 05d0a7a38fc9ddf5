// The cron lease holder finds a job added on another replica even when that replica's `cron` event never
// reaches it (the bus delivers at most once): it re-reads the jobs while it has none to schedule.
import assert from "node:assert/strict";
import { agentsModule, cronModule, type Gateway, type LogRecord, MemoryJsonDocs } from "../mod.ts";
import { MemoryLeaseStore } from "../lib/state/leases.ts";
import { startGateway } from "./_helpers.ts";

async function until(what: string, check: () => Promise<boolean>, timeoutMs = 5_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await check())) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
}

Deno.test("cron: a job added on a replica whose event was lost is still run by the lease holder within the poll", async () => {
  const docs = new MemoryJsonDocs();
  const leases = new MemoryLeaseStore();
  const started = { a: 0, b: 0 };
  const replica = (name: "a" | "b"): Promise<Gateway> =>
    startGateway({
      // One lease store and one jobs document, but a bus each: no event of one reaches the other.
      stores: { leases, docs },
      logSinks: [{ write: (r: LogRecord) => void (r.msg === "cron: run started" && started[name]++) }],
      modules: [agentsModule(), cronModule({ jobsPollMs: 100 })],
    });
  const a = await replica("a");
  const b = await replica("b");
  try {
    await b.call("cron.add", {
      name: "Queue report",
      schedule: { kind: "every", everyMs: 200 },
      sessionTarget: "isolated",
      wakeMode: "now",
      payload: { kind: "agentTurn", message: "Report the queue depth." },
    });
    await until("the lease holder to run the job", () => Promise.resolve(started.a > 0), 3_000);
    assert.equal(started.b, 0, "only the lease holder runs jobs");
  } finally {
    await a.stop();
    await b.stop();
  }
});
