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

  test("create stores a new session once; a second create returns the first", async (store) => {
    const first = await store.create(entry("agent:main:a", { label: "one" }));
    assert.deepEqual(first, { entry: entry("agent:main:a", { label: "one" }), created: true });
    const again = await store.create(entry("agent:main:a", { sessionId: "other" }));
    assert.deepEqual(again, { entry: entry("agent:main:a", { label: "one" }), created: false });
    const racing = await Promise.all(
      Array.from({ length: 10 }, (_, i) => store.create(entry("agent:main:b", { sessionId: `s${i}` }))),
    );
    assert.equal(racing.filter((r) => r.created).length, 1);
    const winner = racing.find((r) => r.created)!.entry.sessionId;
    assert.ok(racing.every((r) => r.entry.sessionId === winner));
    assert.equal((await store.get("agent:main:b"))!.sessionId, winner);
  });

  test("patch sets and clears fields, checks the sessionId, keeps the rest", async (store) => {
    await store.put(entry("agent:main:a", { inputTokens: 4, label: "old", icon: "star" }));
    const patched = await store.patch("agent:main:a", {
      label: "new",
      icon: null,
      pinnedAt: 7,
      color: undefined,
    });
    const expected = entry("agent:main:a", { inputTokens: 4, label: "new", pinnedAt: 7 });
    assert.deepEqual(patched, expected);
    assert.deepEqual(await store.get("agent:main:a"), expected);
    assert.equal(await store.patch("agent:main:a", { label: "x" }, "another-session"), undefined);
    assert.equal(await store.patch("agent:main:none", { label: "x" }), undefined);
    assert.equal(await store.get("agent:main:none"), undefined);
    const archived = await store.patch(
      "agent:main:a",
      { archivedAt: 9, label: undefined },
      "sid-agent:main:a",
    );
    assert.equal(archived!.archivedAt, 9);
    assert.deepEqual(await store.get("agent:main:a"), { ...expected, archivedAt: 9 });
  });

  test("a patch and a run applied together lose neither", async (store) => {
    await store.put(entry("agent:main:a"));
    await Promise.all([
      ...Array.from({ length: 10 }, () => store.recordRun("agent:main:a", run("sid-agent:main:a"))),
      store.patch("agent:main:a", { label: "kept" }),
    ]);
    const final = (await store.get("agent:main:a"))!;
    assert.equal(final.inputTokens, 30);
    assert.equal(final.label, "kept");
  });

  test("delete removes a session and returns it, checking the sessionId", async (store) => {
    await store.put(entry("agent:main:a"));
    await store.put(entry("agent:main:b"));
    assert.equal(await store.delete("agent:main:a", "another-session"), undefined);
    assert.deepEqual(await store.delete("agent:main:a", "sid-agent:main:a"), entry("agent:main:a"));
    assert.equal(await store.get("agent:main:a"), undefined);
    assert.equal(await store.delete("agent:main:a"), undefined);
    assert.deepEqual((await store.list()).map((e) => e.key), ["agent:main:b"]);
    assert.deepEqual(await store.delete("agent:main:b"), entry("agent:main:b"));
    const recreated = await store.create(entry("agent:main:a", { sessionId: "fresh" }));
    assert.equal(recreated.created, true);
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
