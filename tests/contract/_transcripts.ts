// The contract every TranscriptStore meets; run it with a factory of fresh, empty stores.
import assert from "node:assert/strict";
import type { NewTranscriptEntry, TranscriptRef, TranscriptStore } from "../../lib/state/sessions.ts";
import type { GatewayStores } from "../../lib/state/stores.ts";
import { type TestClock, testClock } from "./_clock.ts";

const ref: TranscriptRef = { agentId: "main", sessionId: "s1" };

function line(id: string, role: NewTranscriptEntry["role"] = "user"): NewTranscriptEntry {
  return { id, ts: 1, role, content: `text ${id}`, runId: "r1" };
}

/** Registers the TranscriptStore contract tests for the implementation `name`. */
export function transcriptsContract(
  name: string,
  make: () => TranscriptStore | Promise<TranscriptStore>,
): void {
  const test = (title: string, body: (store: TranscriptStore) => Promise<void>) =>
    Deno.test(`TranscriptStore contract (${name}): ${title}`, async () => body(await make()));

  test("an unknown transcript is empty", async (store) => {
    assert.deepEqual(await store.read(ref), []);
  });

  test("append numbers lines from 1 in order and returns them; read gives the same", async (store) => {
    const added = await store.append(ref, [line("a"), line("b", "assistant")]);
    assert.deepEqual(added.map((e) => [e.seq, e.id]), [[1, "a"], [2, "b"]]);
    assert.deepEqual(await store.read(ref), added);
    const more = await store.append(ref, [line("c", "tool")]);
    assert.deepEqual(more.map((e) => [e.seq, e.id]), [[3, "c"]]);
    assert.deepEqual((await store.read(ref)).map((e) => e.seq), [1, 2, 3]);
  });

  test("every field of a line survives", async (store) => {
    const full: NewTranscriptEntry = {
      id: "x",
      ts: 123,
      role: "assistant",
      content: "reply",
      toolCalls: [{ id: "c1", name: "t", arguments: '{"a":1}' }],
      runId: "r9",
      stopReason: "aborted",
    };
    await store.append(ref, [full, { id: "y", ts: 124, role: "tool", content: "out", toolCallId: "c1" }]);
    assert.deepEqual(await store.read(ref), [
      { ...full, seq: 1 },
      { id: "y", ts: 124, role: "tool", content: "out", toolCallId: "c1", seq: 2 },
    ]);
  });

  test("an empty append adds nothing and returns nothing", async (store) => {
    await store.append(ref, [line("a")]);
    assert.deepEqual(await store.append(ref, []), []);
    assert.deepEqual((await store.read(ref)).map((e) => e.seq), [1]);
  });

  test("transcripts are numbered independently", async (store) => {
    const other: TranscriptRef = { agentId: "main", sessionId: "s2" };
    const otherAgent: TranscriptRef = { agentId: "ops", sessionId: "s1" };
    await store.append(ref, [line("a"), line("b")]);
    assert.deepEqual((await store.append(other, [line("c")])).map((e) => e.seq), [1]);
    assert.deepEqual((await store.append(otherAgent, [line("d")])).map((e) => e.seq), [1]);
    assert.deepEqual((await store.read(ref)).map((e) => e.id), ["a", "b"]);
  });

  test("concurrent appends: no seq gap or repeat, each batch contiguous and in its order", async (store) => {
    const batches = Array.from({ length: 25 }, (_, b) => [line(`${b}.0`), line(`${b}.1`), line(`${b}.2`)]);
    const results = await Promise.all(batches.map((batch) => store.append(ref, batch)));
    for (const added of results) {
      assert.deepEqual(added.map((e) => e.seq), [added[0].seq, added[0].seq + 1, added[0].seq + 2]);
      assert.deepEqual(added.map((e) => e.id.split(".")[1]), ["0", "1", "2"]);
    }
    const lines = await store.read(ref);
    assert.deepEqual(lines.map((e) => e.seq), Array.from({ length: 75 }, (_, i) => i + 1));
    // What append returned is what was stored, line for line.
    const byId = new Map(lines.map((e) => [e.id, e.seq]));
    for (const added of results) for (const e of added) assert.equal(byId.get(e.id), e.seq);
  });

  test("compact replaces the lines up to `through` and numbers the rest from 1", async (store) => {
    await store.append(ref, [line("a"), line("b", "assistant"), line("c"), line("d", "assistant")]);
    const summary: NewTranscriptEntry = { id: "sum", ts: 9, role: "system", content: "summary of a and b" };
    const now = await store.compact(ref, 2, [summary]);
    assert.deepEqual(now.map((e) => [e.seq, e.id]), [[1, "sum"], [2, "c"], [3, "d"]]);
    assert.deepEqual(now[0], { ...summary, seq: 1 });
    assert.deepEqual(await store.read(ref), now);
    // Appends continue after the compacted transcript.
    assert.deepEqual((await store.append(ref, [line("e")])).map((e) => e.seq), [4]);
  });

  test("compact with no replacement trims; lines appended meanwhile are kept", async (store) => {
    await store.append(ref, [line("a"), line("b"), line("c")]);
    const [trimmed] = await Promise.all([store.compact(ref, 2, []), store.append(ref, [line("d")])]);
    const lines = await store.read(ref);
    assert.deepEqual(lines.map((e) => e.id), ["c", "d"]);
    assert.deepEqual(lines.map((e) => e.seq), [1, 2]);
    assert.ok(trimmed.length >= 1);
    assert.deepEqual(await store.compact(ref, 0, []), lines, "through 0 changes nothing");
  });

  test("compact of a long transcript keeps every line after the cut (10,000 lines, 9,000 kept)", async (store) => {
    for (let batch = 0; batch < 10; batch++) {
      await store.append(ref, Array.from({ length: 1_000 }, (_, i) => line(`l${batch * 1_000 + i}`)));
    }
    const kept = await store.compact(ref, 1_000, []);
    assert.equal(kept.length, 9_000);
    const lines = await store.read(ref);
    assert.equal(lines.length, 9_000, "the lines after the cut are all there");
    assert.deepEqual([lines[0].id, lines[0].seq, lines.at(-1)!.id, lines.at(-1)!.seq], [
      "l1000",
      1,
      "l9999",
      9_000,
    ]);
  });

  test("archive takes a transcript out of use; a new one starts from seq 1", async (store) => {
    await store.append(ref, [line("a"), line("b")]);
    const other: TranscriptRef = { agentId: "main", sessionId: "s2" };
    await store.append(other, [line("x")]);
    const archived = await store.archive(ref);
    assert.ok(archived === undefined || typeof archived === "string");
    assert.deepEqual(await store.read(ref), []);
    assert.deepEqual((await store.read(other)).map((e) => e.id), ["x"]);
    assert.deepEqual((await store.append(ref, [line("c")])).map((e) => e.seq), [1]);
    assert.equal(await store.archive({ agentId: "main", sessionId: "never" }), undefined);
  });

  test("an append of a run's input already saved (its call retried) writes nothing and returns the saved lines", async (store) => {
    await store.append(ref, [{ ...line("old"), runId: "r0" }]);
    const saved = await store.append(ref, [line("a")], { inputOf: "r1" });
    const retried = await store.append(ref, [line("retry")], { inputOf: "r1" });
    assert.deepEqual(retried, saved);
    assert.deepEqual((await store.read(ref)).map((e) => [e.seq, e.id]), [[1, "old"], [2, "a"]]);
    // Its reply follows; a retry after it still finds the input and gets only the input back.
    await store.append(ref, [line("reply", "assistant")]);
    assert.deepEqual(await store.append(ref, [line("again")], { inputOf: "r1" }), saved);
    // Another run's input, and lines appended without `inputOf`, are written as usual.
    const other = await store.append(ref, [{ ...line("b"), runId: "r10" }], { inputOf: "r10" });
    assert.deepEqual(other.map((e) => [e.seq, e.id]), [[4, "b"]]);
    const plain = await store.append(ref, [line("c", "assistant")]);
    assert.deepEqual(plain.map((e) => [e.seq, e.id]), [[5, "c"]]);
  });

  test("a line quoting another run's id in its text is not that run's input", async (store) => {
    await store.append(ref, [{ ...line("q"), runId: "r0", content: '{"runId":"r1"} "runId":"r1"' }]);
    const added = await store.append(ref, [line("a")], { inputOf: "r1" });
    assert.deepEqual(added.map((e) => [e.seq, e.id]), [[2, "a"]]);
  });

  test("returned lines are copies", async (store) => {
    const [added] = await store.append(ref, [line("a")]);
    added.content = "changed";
    (await store.read(ref))[0].content = "changed too";
    assert.equal((await store.read(ref))[0].content, "text a");
  });
}

/** The stores a guarded append reads besides the transcript: one bundle's. */
export type GuardedAppendStores = Pick<GatewayStores, "transcripts" | "sessions" | "leases" | "idempotency">;

/**
 * Registers the contract of {@link TranscriptStore.appendIfHeld} for the implementation `name`: `make`
 * gives a fresh bundle on `clock`, whose transcript store offers the operation.
 */
export function appendIfHeldContract(
  name: string,
  make: (clock: TestClock) => GuardedAppendStores | Promise<GuardedAppendStores>,
): void {
  const test = (title: string, body: (stores: GuardedAppendStores, clock: TestClock) => Promise<void>) =>
    Deno.test(`TranscriptStore.appendIfHeld contract (${name}): ${title}`, async () => {
      const clock = testClock();
      const stores = await make(clock);
      assert.ok(stores.transcripts.appendIfHeld, "the store offers appendIfHeld");
      await body(stores, clock);
    });
  const guard = { sessionKey: "agent:main:main", lease: "session:agent:main:main", owner: "me" };
  const entry = (sessionId: string) => ({
    key: guard.sessionKey,
    agentId: "main",
    sessionId,
    createdAt: 1,
    updatedAt: 1,
    inputTokens: 0,
    outputTokens: 0,
  });

  test("appends, numbered after the lines there, while the owner holds the lease and the entry names the transcript", async ({ transcripts, sessions, leases }) => {
    await sessions.put(entry(ref.sessionId));
    await transcripts.append(ref, [line("a")]);
    assert.ok(await leases.acquire(guard.lease, guard.owner, 1_000));
    const added = await transcripts.appendIfHeld!(ref, [line("b"), line("c", "assistant")], guard);
    assert.deepEqual(added?.map((e) => [e.seq, e.id]), [[2, "b"], [3, "c"]]);
    assert.deepEqual((await transcripts.read(ref)).map((e) => [e.seq, e.id, e.content]), [
      [1, "a", "text a"],
      [2, "b", "text b"],
      [3, "c", "text c"],
    ]);
  });

  test(
    "writes nothing when the lease is free, another owner's, or expired",
    async ({ transcripts, sessions, leases }, clock) => {
      await sessions.put(entry(ref.sessionId));
      assert.equal(await transcripts.appendIfHeld!(ref, [line("a")], guard), undefined, "free");
      const theirs = await leases.acquire(guard.lease, "them", 1_000);
      assert.equal(await transcripts.appendIfHeld!(ref, [line("a")], guard), undefined, "another owner's");
      await leases.release(guard.lease, theirs!);
      // An owner whose name starts like the holder's does not hold it either.
      await leases.acquire(guard.lease, "me-too", 1_000);
      assert.equal(await transcripts.appendIfHeld!(ref, [line("a")], guard), undefined, "a longer name");
      clock.advance(1_001);
      await leases.acquire(guard.lease, guard.owner, 1_000);
      clock.advance(1_001);
      assert.equal(await transcripts.appendIfHeld!(ref, [line("a")], guard), undefined, "expired");
      assert.deepEqual(await transcripts.read(ref), []);
    },
  );

  test("names one attempt: a lease of the same process taken under another attempt's owner does not let it write", async ({ transcripts, sessions, leases }) => {
    await sessions.put(entry(ref.sessionId));
    await leases.acquire(guard.lease, "me/1", 1_000);
    const attempt = { ...guard, owner: "me/2" };
    assert.equal(
      await transcripts.appendIfHeld!(ref, [line("a")], attempt),
      undefined,
      "an earlier attempt's",
    );
    assert.deepEqual(await transcripts.read(ref), []);
  });

  test("without a session key, checks only the lease", async ({ transcripts, leases }) => {
    const { sessionKey: _, ...leaseOnly } = guard;
    assert.equal(await transcripts.appendIfHeld!(ref, [line("a")], leaseOnly), undefined, "free");
    await leases.acquire(guard.lease, guard.owner, 1_000);
    const added = await transcripts.appendIfHeld!(ref, [line("a")], leaseOnly);
    assert.deepEqual(added?.map((e) => [e.seq, e.id]), [[1, "a"]]);
  });

  test("writes nothing when the session has no entry or its entry names another transcript", async ({ transcripts, sessions, leases }) => {
    await leases.acquire(guard.lease, guard.owner, 1_000);
    assert.equal(await transcripts.appendIfHeld!(ref, [line("a")], guard), undefined, "no entry");
    await sessions.put(entry("after-reset"));
    assert.equal(await transcripts.appendIfHeld!(ref, [line("a")], guard), undefined, "another transcript");
    assert.deepEqual(await transcripts.read(ref), []);
  });

  test("with a claim, writes only while the idempotency claim is pending under the call that made it", async ({ transcripts, sessions, leases, idempotency }) => {
    await sessions.put(entry(ref.sessionId));
    await leases.acquire(guard.lease, guard.owner, 1_000);
    const outcomes: unknown[] = [];
    const append = (id: string) =>
      idempotency.run("ns", "k", "fp", async (claim) => {
        // A store that answers its claims at once has no guard: the call already holds the key.
        const claimed = claim.guard ? { ...guard, claim: claim.guard } : guard;
        const added = await transcripts.appendIfHeld!(ref, [line(id)], claimed);
        outcomes.push([id, await claim.won, added?.map((e) => e.id)]);
        return id;
      }, { ahead: true });
    assert.equal(await append("first"), "first");
    assert.equal(await append("duplicate"), "first", "the duplicate gets the first outcome");
    assert.deepEqual(await transcripts.read(ref).then((lines) => lines.map((e) => e.id)), ["first"]);
    // A store that started the duplicate's work ahead of its claim had its append refused.
    assert.deepEqual(outcomes[0], ["first", true, ["first"]]);
    if (outcomes[1]) assert.deepEqual(outcomes[1], ["duplicate", false, undefined]);
  });

  test("with a claim that follows a lapsed one, writes nothing until its call confirms the claim", async ({ transcripts, sessions, leases, idempotency }) => {
    await sessions.put(entry(ref.sessionId));
    await leases.acquire(guard.lease, guard.owner, 1_000);
    const died = () => Promise.reject(new Error("its replica died"));
    await assert.rejects(idempotency.run("ns", "k", "fp", died, { ahead: true }), /its replica died/);
    const seen: unknown[] = [];
    await idempotency.run("ns", "k", "fp", async (claim) => {
      const claimed = claim.guard ? { ...guard, claim: claim.guard } : guard;
      const ids = async (id: string) =>
        (await transcripts.appendIfHeld!(ref, [line(id)], claimed))?.map((e) => e.id);
      seen.push(await ids("ahead"));
      // A store whose claims cannot lapse (in one process) has nothing to confirm.
      if (claim.confirm && await claim.lapsed) seen.push(await claim.confirm(), await ids("confirmed"));
      return "ok";
    }, { ahead: true });
    const lines = (await transcripts.read(ref)).map((e) => e.id);
    if (seen.length === 1) return assert.deepEqual([seen, lines], [[["ahead"]], ["ahead"]]);
    assert.deepEqual(seen, [undefined, true, ["confirmed"]]);
    assert.deepEqual(lines, ["confirmed"]);
  });

  test("a run's input already saved (its call retried on another replica) is returned, not written again", async ({ transcripts, sessions, leases }) => {
    await sessions.put(entry(ref.sessionId));
    await leases.acquire(guard.lease, guard.owner, 1_000);
    const input = { ...guard, inputOf: "r1" };
    const saved = await transcripts.appendIfHeld!(ref, [line("a")], input);
    assert.deepEqual(saved?.map((e) => [e.seq, e.id]), [[1, "a"]]);
    assert.deepEqual(await transcripts.appendIfHeld!(ref, [line("retry")], input), saved);
    // The run's reply is not its input: appended as usual.
    const reply = await transcripts.appendIfHeld!(ref, [line("reply", "assistant")], guard);
    assert.deepEqual(reply?.map((e) => [e.seq, e.id]), [[2, "reply"]]);
    // The guard still comes first: a lease not held returns nothing, saved or not.
    assert.equal(await transcripts.appendIfHeld!(ref, [line("x")], { ...input, owner: "other" }), undefined);
    assert.deepEqual((await transcripts.read(ref)).map((e) => e.id), ["a", "reply"]);
  });

  test("with an entry to create: stores it along with the lines when the session has none, refuses when it names another transcript", async ({ transcripts, sessions, leases }) => {
    await leases.acquire(guard.lease, guard.owner, 1_000);
    const proposed = entry(ref.sessionId);
    const added = await transcripts.appendIfHeld!(ref, [line("a")], { ...guard, create: proposed });
    assert.deepEqual(added?.map((e) => [e.seq, e.id]), [[1, "a"]]);
    assert.deepEqual(await sessions.get(guard.sessionKey), proposed);
    // Another turn's proposal for the same session: the session exists now and names another transcript.
    const other = { agentId: "main", sessionId: "s2" };
    const refused = await transcripts.appendIfHeld!(other, [line("b")], { ...guard, create: entry("s2") });
    assert.equal(refused, undefined);
    assert.deepEqual(await transcripts.read(other), []);
    assert.equal((await sessions.get(guard.sessionKey))?.sessionId, ref.sessionId, "the entry is kept");
    // A proposal whose lease is not held writes neither.
    await sessions.delete(guard.sessionKey);
    const notHeld = { ...guard, owner: "someone-else", create: proposed };
    assert.equal(await transcripts.appendIfHeld!(ref, [line("c")], notHeld), undefined);
    assert.equal(await sessions.get(guard.sessionKey), undefined);
  });
}
