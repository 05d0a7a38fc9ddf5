// Review 7: tests/cluster_turn_roundtrips_test.ts's "a lease released and taken again at once ..." fails
// without the script-load fix (lib/state/redis/connection.ts `load`) only when an earlier test of the same
// process opened a bundle on another Redis server (its SHAs were then known, so the old `??=` skipped the
// load); run alone (`--filter`) it passes on the pre-fix code. This one opens that first bundle itself.
import assert from "node:assert/strict";
import { redisStores } from "../stores/redis.ts";
import { REDIS_SERVER, startRedisServer } from "./_redis_server.ts";

Deno.test({
  name: "review7: a bundle opened on a second server can release and retake a lease at once",
  ignore: !REDIS_SERVER && !Deno.env.get("CI"),
  async fn() {
    const [first, second] = await Promise.all([startRedisServer(), startRedisServer()]);
    try {
      // Only for the SHAs it leaves known in this process.
      await (await redisStores({ url: first.url, keyPrefix: "r7a:" })).close();
      const stores = await redisStores({ url: second.url, keyPrefix: "r7b:" });
      try {
        const token = (await stores.leases.acquire("session:s", "a/1", 60_000))!;
        assert.ok(token);
        const released = stores.leases.release("session:s", token);
        const again = stores.leases.acquire("session:s", "a/2", 60_000);
        await released;
        assert.ok(await again, "the acquire landed before the release (its script ran as EVAL behind it)");
      } finally {
        await stores.close();
      }
    } finally {
      await Promise.all([first.stop(), second.stop()]);
    }
  },
});
