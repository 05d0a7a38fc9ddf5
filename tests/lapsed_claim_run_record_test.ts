// A keyed turn whose claim follows a lapsed one (its first replica died) sends its run record ahead of the
// claim's answer, like every keyed turn; the Redis guard refuses it while the call looks at the run its key
// names. Once the call confirms its claim (nothing stands), the record is written again: another replica's
// `agent.wait` finds the run while it runs, not only after it ended.
import assert from "node:assert/strict";
import { unlessRan } from "../lib/agents/standing-run.ts";
import { redisStores } from "../stores/redis.ts";
import { recordingProvider, scriptedRuntime, userTurn } from "./_scripted_runtime.ts";
import { IGNORE_WITHOUT_REDIS, startRedisServer } from "./_redis_server.ts";

Deno.test({
  name: "a turn whose claim follows a lapsed one records its run once the claim is confirmed, not before",
  ignore: IGNORE_WITHOUT_REDIS,
  async fn() {
    const server = await startRedisServer();
    const stores = await redisStores({ url: server.url, keyPrefix: "lcr:" });
    let answer = () => {};
    const answered = new Promise<void>((resolve) => answer = resolve);
    const runtime = scriptedRuntime(stores, { provider: recordingProvider(() => answered).provider });
    try {
      const died = () => Promise.reject(new Error("its replica died"));
      await assert.rejects(stores.idempotency.run("rpc", "k", "fp", died), /its replica died/);
      const seen: unknown[] = [];
      let running: Promise<unknown> = Promise.resolve();
      const outcome = stores.idempotency.run("rpc", "k", "fp", async (claim) => {
        const look = claim.lapsed!.then(async (lapsed) => {
          // The look at the key's run: the record sent ahead did not land.
          seen.push(lapsed, await stores.runs.get("k"), await claim.confirm!());
          return undefined;
        });
        const handle = runtime.startTurn({ ...userTurn("hi"), runId: "k", claim: unlessRan(claim, look) });
        await handle.recorded;
        running = stores.runs.get("k");
        answer();
        return (await handle.done).status;
      }, { ahead: true });
      assert.equal(await outcome, "ok");
      assert.deepEqual(seen, [true, undefined, true]);
      const record = await running as { state: string; end?: unknown } | undefined;
      assert.deepEqual([record?.state, record?.end], ["running", undefined]);
    } finally {
      answer();
      await stores.close();
      await server.stop();
    }
  },
});
