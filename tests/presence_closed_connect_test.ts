// A connection that its own hello-ok flush closed (a slow consumer) is reported authenticated after its close
// already ran: it must get no presence row, which nothing would remove before the row's TTL.
import assert from "node:assert/strict";
import { createPresenceRows } from "../lib/gateway/presence.ts";
import { createLogger } from "../lib/log/logger.ts";
import { memoryStores } from "../lib/state/stores.ts";
import type { Connection } from "../lib/ws/connection.ts";

Deno.test("presence: a connection closed before it was reported authenticated writes no row", async () => {
  const stores = memoryStores();
  const rows = createPresenceRows({
    now: () => Date.now(),
    stores,
    noteVersions: (seen) => ({ presence: 0, health: 0, ...seen }),
    logger: createLogger({ sinks: [] }),
    selfId: "replica-a",
  }, {});
  const connection = (connId: string, isClosed: boolean) =>
    ({
      connId,
      isClosed,
      remoteAddress: "10.0.0.1",
      caller: {
        role: "operator",
        scopes: [],
        client: { id: "ui", mode: "webchat", version: "1", platform: "test", instanceId: connId },
      },
    }) as unknown as Connection;
  const closed = connection("closed", true);
  rows.disconnected(closed);
  rows.connected(closed);
  rows.connected(connection("open", false));
  await rows.removeSelf();
  const listed = await stores.presence.list(Date.now());
  assert.deepEqual(listed.map((row) => row.instanceId), ["open"]);
});
