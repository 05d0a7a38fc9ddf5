// Store round trips a turn and a connect make, and what saving them must not break. A turn: the first reads
// (and, with a guarded append, the input) travel with the lease attempt (one round trip on Redis), a stale
// transcript guess is never used, a read answered after the input's append does not show the input twice,
// and the lease goes back only after the end's events reached the bus. A connect: hello-ok's presence comes
// from the store at most once a second and from `presence` events in between; presence changes queued
// behind one another are announced once.
import assert from "node:assert/strict";
import type { AgentStores } from "../lib/agents/runtime.ts";
import { InProcessEventBus } from "../lib/bus/event-bus.ts";
import { MemoryLeaseStore } from "../lib/state/leases.ts";
import { MemoryPresenceStore, type PresenceEntry, type PresenceWriteOptions } from "../lib/state/presence.ts";
import {
  type AppendGuard,
  MemorySessionStore,
  MemoryTranscriptStore,
  type NewTranscriptEntry,
  type TranscriptEntry,
  type TranscriptRef,
} from "../lib/state/sessions.ts";
import { completeStores, memoryStores } from "../lib/state/stores.ts";
import { client, connectParams, helloSnapshot, startGateway } from "./_helpers.ts";
import { redisTest } from "./_redis_server.ts";
import {
  MAIN_KEY as KEY,
  recordingProvider,
  scriptedRuntime,
  userTurn as turn,
} from "./_scripted_runtime.ts";

/** A provider that replies "ok" and keeps the messages of every request. */
/** A lease store whose acquisitions wait for `open()` while `gated`, and which logs what it is asked. */
class GatedLeases extends MemoryLeaseStore {
  gated = false;
  readonly log: string[] = [];
  /** Who holds each key, as far as this test double tracks it. */
  readonly holders = new Map<string, string>();
  #gate = Promise.withResolvers<void>();
  readonly opened = this.#gate.promise;
  open(): void {
    this.gated = false;
    this.#gate.resolve();
  }
  override async acquire(key: string, owner: string, ttlMs: number): Promise<string | null> {
    this.log.push("acquire");
    if (this.gated) await this.#gate.promise;
    const token = await super.acquire(key, owner, ttlMs);
    if (token) this.holders.set(key, owner);
    return token;
  }
  override async release(key: string, token: string): Promise<void> {
    this.log.push("release");
    this.holders.delete(key);
    await super.release(key, token);
  }
}

/** Transcripts that log reads and appends. */
class LoggedTranscripts extends MemoryTranscriptStore {
  readonly log: string[] = [];
  override read(ref: TranscriptRef): Promise<TranscriptEntry[]> {
    this.log.push(`read ${ref.sessionId}`);
    return super.read(ref);
  }
  override append(ref: TranscriptRef, entries: readonly NewTranscriptEntry[]): Promise<TranscriptEntry[]> {
    this.log.push(`append ${ref.sessionId}`);
    return super.append(ref, entries);
  }
}

function runtimeWith(parts: {
  transcripts?: MemoryTranscriptStore;
  leases?: MemoryLeaseStore;
  bus?: InProcessEventBus;
  sessions?: MemorySessionStore;
} = {}) {
  const stores = completeStores({
    sessions: parts.sessions ?? new MemorySessionStore(),
    transcripts: parts.transcripts ?? new MemoryTranscriptStore(),
    leases: parts.leases,
    bus: parts.bus,
  });
  return { ...runtimeOn(stores), stores };
}

/** A runtime on `stores` whose model answers "ok" and records what it was asked. */
function runtimeOn(stores: AgentStores) {
  const model = recordingProvider();
  return { runtime: scriptedRuntime(stores, { provider: model.provider }), requests: model.requests };
}

Deno.test("a turn's session entry and its last transcript are read along with the lease attempt, not after it", async () => {
  const leases = new GatedLeases();
  const transcripts = new LoggedTranscripts();
  const sessions = new MemorySessionStore();
  let sessionReads = 0;
  const get = sessions.get.bind(sessions);
  sessions.get = (key) => (sessionReads++, get(key));
  const { runtime, requests } = runtimeWith({ leases, transcripts, sessions });
  try {
    assert.equal((await runtime.startTurn(turn("one")).done).status, "ok");
    const { sessionId } = (await sessions.get(KEY))!;
    sessionReads = 0;
    transcripts.log.length = 0;
    leases.gated = true;
    const second = runtime.startTurn(turn("two"));
    await new Promise((r) => setTimeout(r, 10));
    assert.deepEqual(leases.log.slice(-1), ["acquire"], "the attempt is still unanswered");
    assert.equal(sessionReads, 1, "the session entry was asked for with the attempt");
    assert.deepEqual(transcripts.log, [`read ${sessionId}`], "so was the transcript the session used last");
    leases.open();
    assert.equal((await second.done).status, "ok");
    assert.equal(sessionReads, 1, "nothing is read twice");
    assert.deepEqual(requests[1].map((m) => m.content), ["one", "ok", "two"]);
  } finally {
    runtime.close();
  }
});

Deno.test("a transcript guess gone stale (the session was reset elsewhere) is not used", async () => {
  const transcripts = new LoggedTranscripts();
  const { runtime, stores, requests } = runtimeWith({ transcripts });
  try {
    await runtime.startTurn(turn("one")).done;
    const entry = (await stores.sessions.get(KEY))!;
    // Another replica's reset: a new transcript under the same key.
    await stores.sessions.put({ ...entry, sessionId: "after-reset" });
    await stores.transcripts.append({ agentId: "main", sessionId: "after-reset" }, [
      { id: "x", ts: 1, role: "user", content: "from the other replica" },
    ]);
    transcripts.log.length = 0;
    assert.equal((await runtime.startTurn(turn("two")).done).status, "ok");
    assert.deepEqual(requests[1].map((m) => m.content), ["from the other replica", "two"]);
    assert.deepEqual(transcripts.log.filter((l) => l.startsWith("read")), [
      `read ${entry.sessionId}`,
      "read after-reset",
    ]);
    const lines = await stores.transcripts.read({ agentId: "main", sessionId: "after-reset" });
    assert.deepEqual(lines.map((l) => [l.seq, l.content]), [[1, "from the other replica"], [2, "two"], [
      3,
      "ok",
    ]]);
  } finally {
    runtime.close();
  }
});

/**
 * Transcripts with a guarded append over an in-process lease store and session store (what Redis checks
 * in one script); `refuse` makes the next guarded append fail as if its attempt had not got the lease.
 */
class GuardedTranscripts extends LoggedTranscripts {
  refuse = false;
  constructor(private readonly sessions: MemorySessionStore, private readonly leases: GatedLeases) {
    super();
  }
  async appendIfHeld(
    ref: TranscriptRef,
    entries: readonly NewTranscriptEntry[],
    guard: AppendGuard,
  ): Promise<TranscriptEntry[] | undefined> {
    this.log.push(`appendIfHeld ${ref.sessionId}`);
    if (this.leases.gated) await this.leases.opened;
    await new Promise((r) => setTimeout(r, 0)); // after the attempt, as Redis runs them
    const held = this.leases.holders.get(guard.lease) === guard.owner;
    const refused = this.refuse;
    this.refuse = false;
    const stored = guard.sessionKey === undefined ? undefined : await this.sessions.get(guard.sessionKey);
    const named = guard.sessionKey === undefined || stored?.sessionId === ref.sessionId;
    const creates = guard.sessionKey !== undefined && !stored && guard.create !== undefined;
    if (refused || !held || !(named || creates)) return undefined;
    if (creates) await this.sessions.put(guard.create!);
    return await MemoryTranscriptStore.prototype.append.call(this, ref, entries);
  }
}

Deno.test("with a guarded append, a turn's input goes along with its lease attempt; a refused one is written after", async () => {
  const leases = new GatedLeases();
  const sessions = new MemorySessionStore();
  const transcripts = new GuardedTranscripts(sessions, leases);
  const { runtime, requests } = runtimeWith({ leases, transcripts, sessions });
  try {
    await runtime.startTurn(turn("one")).done;
    const { sessionId } = (await sessions.get(KEY))!;
    assert.deepEqual(
      transcripts.log,
      [`appendIfHeld ${sessionId}`, `appendIfHeld ${sessionId}`],
      "the first turn had no guess: its input went with the new session it proposed (its reply is guarded)",
    );
    transcripts.log.length = 0;
    leases.gated = true;
    const second = runtime.startTurn(turn("two"));
    await new Promise((r) => setTimeout(r, 10));
    assert.deepEqual(
      transcripts.log,
      [`read ${sessionId}`, `appendIfHeld ${sessionId}`],
      "sent with the attempt",
    );
    leases.open();
    assert.equal((await second.done).status, "ok");
    assert.deepEqual(
      transcripts.log.slice(2),
      [`appendIfHeld ${sessionId}`],
      "only the reply is appended after",
    );
    assert.deepEqual(requests[1].map((m) => m.content), ["one", "ok", "two"]);
    transcripts.refuse = true;
    transcripts.log.length = 0;
    assert.equal((await runtime.startTurn(turn("three")).done).status, "ok");
    assert.deepEqual(transcripts.log, [
      `read ${sessionId}`,
      `appendIfHeld ${sessionId}`,
      `append ${sessionId}`,
      `appendIfHeld ${sessionId}`,
    ]);
    const lines = await transcripts.read({ agentId: "main", sessionId });
    assert.deepEqual(lines.map((l) => l.content), ["one", "ok", "two", "ok", "three", "ok"]);
  } finally {
    runtime.close();
  }
});

/** Transcripts whose reads are answered only after the appends sent after them (as a pipelined store may). */
class LateReads extends MemoryTranscriptStore {
  #appended: Promise<unknown> = Promise.resolve();
  override async read(ref: TranscriptRef): Promise<TranscriptEntry[]> {
    await new Promise((r) => setTimeout(r, 0));
    await this.#appended;
    return super.read(ref);
  }
  override append(ref: TranscriptRef, entries: readonly NewTranscriptEntry[]): Promise<TranscriptEntry[]> {
    const appended = super.append(ref, entries);
    this.#appended = appended;
    return appended;
  }
}

Deno.test("a transcript read answered after the input's append shows the model the input once", async () => {
  const transcripts = new LateReads();
  const sessions = new MemorySessionStore();
  await sessions.put({
    key: KEY,
    agentId: "main",
    sessionId: "s1",
    createdAt: 1,
    updatedAt: 1,
    inputTokens: 0,
    outputTokens: 0,
  });
  await transcripts.append({ agentId: "main", sessionId: "s1" }, [{
    id: "a",
    ts: 1,
    role: "user",
    content: "zero",
  }]);
  // A fresh runtime has no guess: it sends the read and the append together.
  const { runtime, requests } = runtimeWith({ transcripts, sessions });
  try {
    assert.equal((await runtime.startTurn(turn("one")).done).status, "ok");
    assert.deepEqual(requests[0].map((m) => m.content), ["zero", "one"]);
  } finally {
    runtime.close();
  }
});

/**
 * A bus that logs its flushes; once the end's events are logged, a flush waits for `gate`. (The turn's
 * writes wait for earlier flushes too, so that they never share a batch with its events in flight.)
 */
class GatedBus extends InProcessEventBus {
  readonly log: string[] = [];
  readonly gate = Promise.withResolvers<void>();
  async flush(): Promise<void> {
    this.log.push("flush");
    if (!this.log.includes("end events")) return;
    await this.gate.promise;
    this.log.push("flushed");
  }
}

Deno.test("the session's lease goes back only after the turn's end events reached the bus", async () => {
  const leases = new GatedLeases();
  const bus = new GatedBus();
  const { runtime } = runtimeWith({ leases, bus });
  // Where the agents module publishes the end's events (`chat` final, lifecycle end).
  runtime.onRunEvent((_, event) => event.type === "end" && bus.log.push("end events"));
  try {
    const handle = runtime.startTurn(turn("one"));
    await new Promise((r) => setTimeout(r, 20));
    // The input's and the reply's writes each waited for the events before them; then the end's.
    assert.deepEqual(bus.log, ["flush", "flush", "end events", "flush"]);
    assert.ok(!leases.log.includes("release"), "held while the end events are on their way");
    bus.gate.resolve();
    await handle.done;
    assert.deepEqual(leases.log, ["acquire", "release"]);
    assert.equal(bus.log.at(-1), "flushed");
  } finally {
    runtime.close();
  }
});

/** Presence whose upserts wait for `open()`. */
class GatedPresence extends MemoryPresenceStore {
  #gate = Promise.withResolvers<void>();
  gated = true;
  open(): void {
    this.#gate.resolve();
  }
  override async upsert(key: string, entry: PresenceEntry, options?: PresenceWriteOptions): Promise<void> {
    if (this.gated && key.startsWith("conn:")) await this.#gate.promise;
    return super.upsert(key, entry, options);
  }
}

Deno.test("a client that leaves while its presence row is being written costs one announcement, not two", async () => {
  const presence = new GatedPresence();
  const stores = { ...memoryStores(), presence };
  const gateway = await startGateway({ stores });
  try {
    const watcher = await client(gateway);
    const announced: unknown[] = [];
    const stop = stores.bus.subscribe((event) => event.event === "presence" && announced.push(event.payload));
    const before = (await stores.stateVersions.current()).presence;
    const brief = await client(
      gateway,
      connectParams({ client: { id: "webchat-ui", version: "1", platform: "web", mode: "webchat" } }),
    );
    brief.socket.close();
    await new Promise((r) => setTimeout(r, 10));
    presence.open();
    await new Promise((r) => setTimeout(r, 20));
    stop();
    assert.equal(announced.length, 1, "one presence event for the connect and the close");
    const rows = (announced[0] as { presence: PresenceEntry[] }).presence;
    assert.ok(rows.every((row) => row.mode !== "webchat"), "the row is gone again");
    assert.equal((await stores.stateVersions.current()).presence, before + 1);
    watcher.socket.close();
  } finally {
    await gateway.stop();
  }
});

// Two runtimes over one Redis (two replicas), with appendfsync always: the reads and the guarded append
// travel with the lease attempt, and a guess the other replica made stale (a reset) is never used.
redisTest(
  "two replicas on Redis: turns alternate on one session, one resets it, every line lands once in the right transcript",
  { appendfsync: "always" },
  async (redis) => {
    const bundles = await Promise.all([0, 1].map(() => redis.stores({ keyPrefix: "turns:" })));
    const replicas = bundles.map((stores) => runtimeOn(stores));
    try {
      const [a, b] = replicas;
      assert.equal((await a.runtime.startTurn(turn("one")).done).status, "ok");
      assert.equal((await b.runtime.startTurn(turn("two")).done).status, "ok");
      assert.equal((await a.runtime.startTurn(turn("three")).done).status, "ok");
      assert.deepEqual(
        a.requests[1].map((m) => m.content),
        ["one", "ok", "two", "ok", "three"],
        "b's turn is seen",
      );
      const before = (await bundles[0].sessions.get(KEY))!;
      await b.runtime.resetSession(KEY, "main");
      assert.equal((await a.runtime.startTurn(turn("four")).done).status, "ok");
      assert.deepEqual(
        a.requests.at(-1)!.map((m) => m.content),
        ["four"],
        "the reset transcript, not the guess",
      );
      const after = (await bundles[1].sessions.get(KEY))!;
      const read = (sessionId: string) => bundles[1].transcripts.read({ agentId: "main", sessionId });
      assert.deepEqual((await read(before.sessionId)).map((l) => [l.seq, l.content]), [
        [1, "one"],
        [2, "ok"],
        [3, "two"],
        [4, "ok"],
        [5, "three"],
        [6, "ok"],
      ]);
      assert.deepEqual((await read(after.sessionId)).map((l) => [l.seq, l.content]), [[1, "four"], [
        2,
        "ok",
      ]]);
    } finally {
      for (const { runtime } of replicas) runtime.close();
    }
  },
);

Deno.test("hello-ok reads presence from the store at most once a second; presence events keep it current between", async () => {
  let clock = 1_700_000_000_000;
  const stores = memoryStores();
  let reads = 0;
  const list = stores.presence.list.bind(stores.presence);
  stores.presence.list = (now) => (reads++, list(now));
  const gateway = await startGateway({ stores, now: () => clock });
  const hello = () => helloSnapshot(gateway);
  try {
    const first = await hello();
    assert.equal(reads, 1);
    await hello();
    assert.equal(reads, 1, "the second connect within the second reads nothing");
    // Another replica's change: its row, its bump, and its event with the whole list and that version.
    const row = { ...first.presence[0], host: "elsewhere", instanceId: "other", text: "other" };
    await stores.presence.upsert("conn:other", row);
    const { presence: version } = await stores.stateVersions.bump("presence");
    const rows = await list(clock);
    stores.bus.publish({
      event: "presence",
      payload: { presence: rows },
      stateVersion: { presence: version },
    });
    // An older event (delivered late) changes nothing.
    stores.bus.publish({
      event: "presence",
      payload: { presence: [] },
      stateVersion: { presence: version - 1 },
    });
    const third = await hello();
    assert.equal(reads, 1);
    assert.deepEqual(
      third.presence.map((r) => r.instanceId).sort(),
      [first.presence[0].instanceId, "other"].sort(),
    );
    assert.equal(third.stateVersion.presence, version);
    // The row lapses without an event (its replica died): within a second the store is asked again.
    await stores.presence.remove("conn:other");
    clock += 1_001;
    const fourth = await hello();
    assert.equal(reads, 2);
    assert.deepEqual(fourth.presence.map((r) => r.instanceId), first.presence.map((r) => r.instanceId));
  } finally {
    await gateway.stop();
  }
});

redisTest(
  "on Redis, hello-ok's presence is read again once the bus's subscriber dropped (events may be missed)",
  async (redis) => {
    const stores = await redis.stores({ keyPrefix: "hello:", onError: () => {} });
    let reads = 0;
    const list = stores.presence.list.bind(stores.presence);
    stores.presence.list = (now) => (reads++, list(now));
    const gateway = await startGateway({ stores });
    const raw = await redis.client();
    try {
      const hello = async () => (await client(gateway)).socket.close();
      await hello();
      await hello();
      assert.equal(reads, 1);
      const before = stores.bus.link!();
      assert.equal(typeof before, "number");
      await raw.sendCommand(["CLIENT", "KILL", "TYPE", "pubsub"]);
      const deadline = Date.now() + 5_000;
      while (stores.bus.link!() === before || stores.bus.link!() === undefined) {
        if (Date.now() > deadline) throw new Error("the subscriber did not come back");
        await new Promise((r) => setTimeout(r, 10));
      }
      await hello();
      assert.equal(reads, 2, "the events heard before the drop no longer vouch for the rows");
      await hello();
      assert.equal(reads, 2);
    } finally {
      await gateway.stop();
    }
  },
);
