// The ResponseSessionStore contract: every implementation (in-process, Redis) runs these. TTLs run on the
// store's own clock (Redis's for Redis), so expiry is awaited in real time with TTLs of a millisecond.
import assert from "node:assert/strict";
import { REMEMBERED_RESPONSES, type ResponseSessionStore } from "../../lib/state/response-sessions.ts";

const DAY_MS = 24 * 60 * 60_000;
const main = { agentId: "main", sessionKey: "agent:main:openai:ada" };
const ops = { agentId: "ops", sessionKey: "agent:ops:openai:bob" };
const pause = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/** Registers the ResponseSessionStore contract tests for `name`; `make` returns an empty store. */
export function responseSessionsContract(name: string, make: () => Promise<ResponseSessionStore>): void {
  const test = (what: string, fn: (store: ResponseSessionStore) => Promise<void>) =>
    Deno.test(`${name} response sessions: ${what}`, async () => await fn(await make()));

  test("a remembered response gives back its session; an unknown one gives nothing", async (store) => {
    await store.remember("resp_1", main, DAY_MS);
    await store.remember("resp_2", ops, DAY_MS);
    assert.deepEqual(await store.get("resp_1"), main);
    assert.deepEqual(await store.get("resp_2"), ops);
    assert.equal(await store.get("resp_unknown"), undefined);
  });

  test("remembering a response again replaces its session", async (store) => {
    await store.remember("resp_1", main, DAY_MS);
    await store.remember("resp_1", ops, DAY_MS);
    assert.deepEqual(await store.get("resp_1"), ops);
  });

  test("a response is forgotten once its TTL ran out, and only then", async (store) => {
    await store.remember("resp_short", main, 1);
    await store.remember("resp_long", ops, DAY_MS);
    await pause(20);
    assert.equal(await store.get("resp_short"), undefined);
    assert.deepEqual(await store.get("resp_long"), ops);
  });

  test("remembering a response again renews its TTL", async (store) => {
    await store.remember("resp_1", main, 1);
    await store.remember("resp_1", main, DAY_MS);
    await pause(20);
    assert.deepEqual(await store.get("resp_1"), main);
  });

  // A store may bound what it keeps (the in-process one holds it all in one process's memory), but never
  // below the newest REMEMBERED_RESPONSES, counted by when each was last remembered.
  test(`the newest ${REMEMBERED_RESPONSES} responses are all kept for their TTL`, async (store) => {
    const ids = Array.from({ length: REMEMBERED_RESPONSES }, (_, i) => `resp_${i}`);
    for (const id of ids) await store.remember(id, main, DAY_MS);
    // The oldest is remembered again, so it is the newest; one more then pushes out no newer id.
    await store.remember("resp_0", ops, DAY_MS);
    await store.remember("resp_last", main, DAY_MS);
    const kept = await Promise.all([...ids, "resp_last"].map((id) => store.get(id)));
    const missing = [...ids, "resp_last"].filter((id, i) => kept[i] === undefined && id !== "resp_1");
    assert.deepEqual(missing, [], "forgotten among the newest");
    assert.deepEqual(kept[0], ops);
  });
}
