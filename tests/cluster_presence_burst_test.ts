// After a burst of clients that connect and close at once, faster than Redis takes presence writes, a
// replica must not keep writing rows of long-closed connections: such a backlog made every call in the
// seconds after the burst share Redis with thousands of stale presence writes (the bench's per-call
// figures doubled), and in production it grows with the churn and delays every later presence change.
import assert from "node:assert/strict";
import type { createClient } from "redis";
import { connect, connectParams, startGateway } from "./_helpers.ts";
import { redisTest } from "./_redis_server.ts";

const WEBCHAT = { id: "gateway-client", version: "1", platform: "linux", mode: "webchat" };
const IN_FLIGHT = 16;
const BURST_MS = 1_500;

/** Commands Redis ran so far (script bodies included). */
async function redisCommands(raw: ReturnType<typeof createClient>): Promise<number> {
  return Number(/total_commands_processed:(\d+)/.exec(await raw.info("stats"))![1]);
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

redisTest("a burst of connect + close leaves no presence backlog behind", async (redis) => {
  const stores = await redis.stores({ keyPrefix: "burst:" });
  const gateway = await startGateway({ stores });
  const raw = await redis.client();
  try {
    let cycles = 0;
    const deadline = performance.now() + BURST_MS;
    await Promise.all(Array.from({ length: IN_FLIGHT }, async () => {
      while (performance.now() < deadline) {
        const { socket, response } = await connect(gateway, connectParams({ client: WEBCHAT }));
        assert.equal(response.ok, true);
        socket.close();
        cycles++;
      }
    }));
    // What the last closes queued lands within this; a backlog takes seconds more.
    await sleep(300);
    const before = await redisCommands(raw);
    await sleep(1_000);
    const after = await redisCommands(raw) - before - 1;
    assert.ok(after < 50, `${after} Redis commands in the second after ${cycles} connect + close cycles`);
    const rows = await stores.presence.list(Date.now());
    assert.deepEqual(rows.map((row) => row.mode), ["gateway"], "only the gateway's own row is left");
  } finally {
    await gateway.stop();
  }
});
