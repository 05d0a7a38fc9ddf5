// The contract every SessionStore meets; run it with a factory of fresh, empty stores.
import assert from "node:assert/strict";
import type { SessionEntry, SessionRunUpdate, SessionStore } from "../../lib/state/sessions.ts";

function entry(key: string, extra: Partial<SessionEntry> = {}): SessionEntry {
  return {
    key,
    sessionId: `sid-${key}`,
    agentId: "main",
    createdAt: 1,
    updatedAt: 1,
    inputTokens: 0,
    outputTokens: 0,
    ...extra,
  };
}

function run(sessionId: string, extra: Partial<SessionRunUpdate> = {}): SessionRunUpdate {
  return {
    sessionId,
    updatedAt: 5,
    lastRunId: "r1",
    lastRunState: "done",
    inputTokens: 3,
    outputTokens: 7,
    ...extra,
  };
}

/** Registers the SessionStore contract tests for the implementation `name`. */
export function sessionsContract(name: string, make: () => SessionStore | Promise<SessionStore>): void {
  const test = (title: string, body: (store: SessionStore) => Promise<void>) =>
    Deno.test(`SessionStore contract (${name}): ${title}`, async () => body(await make()));

  test("an unknown key is undefined and an empty store lists nothing", async (store) => {
    assert.equal(await store.get("agent:main:none"), undefined);
    assert.deepEqual(await store.list(), []);
  });

  test("put stores a copy, get and list hand out copies", async (store) => {
    const original = entry("agent:main:a", { model: "local/x" });
    await store.put(original);
    original.inputTokens = 99;
    const read = (await store.get("agent:main:a"))!;
    assert.deepEqual(read, entry("agent:main:a", { model: "local/x" }));
    read.outputTokens = 42;
    (await store.list())[0].updatedAt = 77;
    assert.deepEqual(await store.get("agent:main:a"), entry("agent:main:a", { model: "local/x" }));
  });

  test("put replaces a session (a reset starts a new sessionId)", async (store) => {
    await store.put(entry("agent:main:a", { inputTokens: 5 }));
    await store.put(entry("agent:main:a", { sessionId: "fresh" }));
    assert.deepEqual(await store.get("agent:main:a"), entry("agent:main:a", { sessionId: "fresh" }));
    assert.equal((await store.list()).length, 1);
  });

  test("list has every session once", async (store) => {
    for (const key of ["agent:main:a", "agent:main:b", "agent:other:c"]) await store.put(entry(key));
    await store.put(entry("agent:main:b", { updatedAt: 9 }));
    const keys = (await store.list()).map((e) => e.key).sort();
    assert.deepEqual(keys, ["agent:main:a", "agent:main:b", "agent:other:c"]);
  });

  test("recordRun adds the tokens, replaces the other fields and returns the session", async (store) => {
    await store.put(entry("agent:main:a", { inputTokens: 10, outputTokens: 20, model: "old/m" }));
    const updated = await store.recordRun(
      "agent:main:a",
      run("sid-agent:main:a", { model: "new/m", lastMessagePreview: "hi" }),
    );
    const expected = entry("agent:main:a", {
      inputTokens: 13,
      outputTokens: 27,
      updatedAt: 5,
      model: "new/m",
      lastRunId: "r1",
      lastRunState: "done",
      lastMessagePreview: "hi",
    });
    assert.deepEqual(updated, expected);
    assert.deepEqual(await store.get("agent:main:a"), expected);
  });

  test("recordRun changes nothing for a missing session or a sessionId reset since", async (store) => {
    assert.equal(await store.recordRun("agent:main:none", run("x")), undefined);
    assert.equal(await store.get("agent:main:none"), undefined);
    await store.put(entry("agent:main:a", { sessionId: "after-reset" }));
    assert.equal(await store.recordRun("agent:main:a", run("before-reset")), undefined);
    assert.deepEqual(await store.get("agent:main:a"), entry("agent:main:a", { sessionId: "after-reset" }));
  });

  test("concurrent recordRun calls lose no update", async (store) => {
    await store.put(entry("agent:main:a"));
    const updates = Array.from(
      { length: 40 },
      (_, i) => store.recordRun("agent:main:a", run("sid-agent:main:a", { inputTokens: i, outputTokens: 1 })),
    );
    await Promise.all(updates);
    const final = (await store.get("agent:main:a"))!;
    assert.equal(final.inputTokens, (39 * 40) / 2);
    assert.equal(final.outputTokens, 40);
  });
}
