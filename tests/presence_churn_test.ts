// Under sustained churn the presence queue never drains; other replicas must still hear `presence` events
// while it lasts, not only once it is over.
import assert from "node:assert/strict";
import { createPresenceRows } from "../lib/gateway/presence.ts";
import { createLogger } from "../lib/log/logger.ts";
import { memoryStores } from "../lib/state/stores.ts";
import type { Connection } from "../lib/ws/connection.ts";

Deno.test("presence: churn on a slow store still announces at a bounded interval", async () => {
  let clock = 1_700_000_000_000;
  const stores = memoryStores({ now: () => clock });
  const upsert = stores.presence.upsert.bind(stores.presence);
  // A slow store: each write takes 10 ms (of the test's clock) and yields to the event loop.
  stores.presence.upsert = async (...args) => {
    await new Promise((resolve) => setTimeout(resolve, 0));
    clock += 10;
    return upsert(...args);
  };
  const announcedAt: number[] = [];
  stores.bus.subscribe((event) => {
    if (event.event === "presence") announcedAt.push(clock);
  });
  const rows = createPresenceRows({
    now: () => clock,
    stores,
    noteVersions: (seen) => ({ presence: 0, health: 0, ...seen }),
    logger: createLogger({ sinks: [] }),
    selfId: "replica-a",
  }, {});
  const started = clock;
  const connections = 150;
  for (let i = 0; i < connections; i++) {
    rows.connected({
      connId: `c${i}`,
      remoteAddress: "10.0.0.1",
      caller: {
        role: "operator",
        scopes: [],
        client: { id: "ui", mode: "webchat", version: "1", platform: "test", instanceId: `i${i}` },
      },
    } as unknown as Connection);
  }
  await rows.removeSelf();
  assert.equal((await stores.presence.list(clock)).length, connections);
  const gaps = announcedAt.map((at, i) => at - (i === 0 ? started : announcedAt[i - 1]));
  assert.ok(announcedAt.length > 1, `one announcement for ${connections} changes over ${clock - started} ms`);
  assert.ok(
    gaps.every((gap) => gap <= 250),
    `announcement gaps ${gaps.join(",")} ms`,
  );
});
