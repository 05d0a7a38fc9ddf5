// Durable sessions and transcripts: JSONL round trips, torn tails, and history surviving a restart.
import assert from "node:assert/strict";
import { agentsModule } from "../lib/agents/mod.ts";
import { JsonlSessionStore, jsonlStores, JsonlTranscriptStore } from "../lib/state/jsonl-stores.ts";
import type { SessionEntry, TranscriptEntry } from "../lib/state/sessions.ts";
import type { Frame } from "../mod.ts";
import { client, historyText, startGateway, TOKEN } from "./_helpers.ts";

const line = (seq: number, content: string): TranscriptEntry => ({
  id: `l${seq}`,
  seq,
  ts: seq,
  role: "user",
  content,
});

Deno.test("transcripts append as JSONL and a torn last line is skipped on read", async () => {
  const dir = await Deno.makeTempDir();
  try {
    const store = new JsonlTranscriptStore(dir);
    const ref = { agentId: "main", sessionId: "s-1" };
    await store.append(ref, [line(1, "one"), line(2, "two")]);
    await store.append(ref, [line(3, "three")]);
    const path = `${dir}/agents/main/sessions/s-1.jsonl`;
    assert.equal((await Deno.readTextFile(path)).split("\n").filter(Boolean).length, 3);
    await Deno.writeTextFile(path, '{"id":"l4","seq":4,"con', { append: true });
    const lines = await new JsonlTranscriptStore(dir).read(ref);
    assert.deepEqual(lines.map((l) => l.content), ["one", "two", "three"]);
    assert.deepEqual(await store.read({ agentId: "main", sessionId: "missing" }), []);
    await assert.rejects(store.append({ agentId: "../etc", sessionId: "x" }, [line(1, "x")]));
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("recent transcripts are served from memory, kept in step with appends, and evicted", async () => {
  const dir = await Deno.makeTempDir();
  try {
    const store = new JsonlTranscriptStore(dir, 1);
    const a = { agentId: "main", sessionId: "a" };
    const b = { agentId: "main", sessionId: "b" };
    const fileOf = (sessionId: string) => `${dir}/agents/main/sessions/${sessionId}.jsonl`;
    const outside = (sessionId: string, seq: number) =>
      Deno.writeTextFile(fileOf(sessionId), JSON.stringify(line(seq, "outside")) + "\n", { append: true });
    await store.append(a, [line(1, "one")]);
    assert.deepEqual((await store.read(a)).map((l) => l.content), ["one"]);
    // Served from memory: a line written behind the store's back does not show...
    await outside("a", 2);
    const cached = await store.read(a);
    assert.deepEqual(cached.map((l) => l.content), ["one"]);
    cached[0].content = "mutated by a caller";
    // ...while the store's own appends do, and callers get copies.
    await store.append(a, [line(3, "three")]);
    assert.deepEqual((await store.read(a)).map((l) => l.content), ["one", "three"]);
    // A read racing an append waits for it, so it can neither miss the line nor cache a stale view.
    const appended = store.append(b, [line(1, "b-one")]);
    const raced = store.read(b);
    await appended;
    assert.deepEqual((await raced).map((l) => l.content), ["b-one"]);
    assert.deepEqual((await store.read(b)).map((l) => l.content), ["b-one"]);
    // With room for one transcript, reading b evicted a: the next read of a goes to disk.
    assert.deepEqual((await store.read(a)).map((l) => l.content), ["one", "outside", "three"]);
    // A failed append drops the cached view: no one knows what reached the file.
    await Deno.remove(fileOf("b"));
    await Deno.mkdir(fileOf("b"));
    await assert.rejects(store.append(b, [line(2, "lost")]));
    await Deno.remove(fileOf("b"));
    await outside("b", 1);
    assert.deepEqual((await store.read(b)).map((l) => l.content), ["outside"]);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("session metadata: the last write of a key wins after reopening, and the log compacts", async () => {
  const dir = await Deno.makeTempDir();
  try {
    const entry = (key: string, n: number): SessionEntry => ({
      key,
      sessionId: `s-${key}`,
      agentId: "main",
      createdAt: 1,
      updatedAt: n,
      inputTokens: n,
      outputTokens: 0,
    });
    const store = new JsonlSessionStore(dir);
    for (let n = 1; n <= 150; n++) await store.put(entry("agent:main:a", n));
    await store.put(entry("agent:main:b", 7));
    const reopened = new JsonlSessionStore(dir);
    assert.equal((await reopened.get("agent:main:a"))?.updatedAt, 150);
    assert.equal((await reopened.list()).length, 2);
    const path = `${dir}/agents/sessions.jsonl`;
    assert.equal((await Deno.readTextFile(path)).split("\n").filter(Boolean).length, 2, "compacted on open");
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("sessions and history survive a gateway restart, and the model sees the old turns", async () => {
  const dir = await Deno.makeTempDir();
  const config = { gateway: { auth: { mode: "token" as const, token: TOKEN } } };
  const turn = async (c: Awaited<ReturnType<typeof client>>, message: string, key: string) => {
    const sent = await c.request("chat.send", { sessionKey: "main", message, idempotencyKey: key });
    const runId = (sent.payload as { runId: string }).runId;
    const final = await c.socket.waitFor((f) =>
      f.event === "chat" && (f.payload as Frame).runId === runId && (f.payload as Frame).state === "final"
    );
    return ((final.payload as Frame).message as { content: { text: string }[] }).content[0].text;
  };
  try {
    const first = await startGateway({ config, stores: jsonlStores(dir), modules: [agentsModule()] });
    const c1 = await client(first);
    await turn(c1, "alpha", "k1");
    await turn(c1, "beta", "k2");
    await first.stop();

    const second = await startGateway({ config, stores: jsonlStores(dir), modules: [agentsModule()] });
    const c2 = await client(second);
    const history = await c2.request("chat.history", { sessionKey: "main" });
    const texts = (history.payload as { messages: { content: string | { text: string }[] }[] }).messages.map(
      historyText,
    );
    assert.deepEqual(texts, [
      "alpha",
      'Local model reply #1: you said "alpha".',
      "beta",
      'Local model reply #2: you said "beta".',
    ]);
    assert.equal(await turn(c2, "gamma", "k3"), 'Local model reply #3: you said "gamma".');
    const list = await c2.request("sessions.list", {});
    assert.equal((list.payload as { count: number }).count, 1);
    await second.stop();
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});
