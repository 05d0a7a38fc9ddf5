// Sessions as OpenClaw's Control UI manages them: sessions.create/patch/delete/describe/compact, the
// message subscriptions, chat.metadata and chat.startup, with their events, checked against the
// protocol schema and the reference's answers (tests/fixtures/reference-sessions-methods.json), on the
// in-memory stores, on JSONL files, and across two gateways on one Redis.
import assert from "node:assert/strict";
import { agentsModule } from "../lib/agents/mod.ts";
import type { ModelProvider } from "../lib/providers/types.ts";
import type { Gateway, GatewayOptions } from "../lib/gateway.ts";
import type { Frame } from "../lib/transports/memory.ts";
import { jsonlStores } from "../stores/jsonl.ts";
import {
  client,
  connectParams,
  historyText,
  startGateway,
  tempDir,
  type TestClient,
  TOKEN,
} from "./_helpers.ts";
import { assertMatchesSchema } from "./_protocol_schema.ts";
import { redisTest } from "./_redis_server.ts";

const ADMIN = ["operator.read", "operator.write", "operator.admin"];
const WRITE = ["operator.read", "operator.write"];

/** A provider whose replies say which model served them; a summary request gets a fixed summary. */
function echoProvider(id: string): ModelProvider {
  const reply = (request: { model: string; messages: { role: string; content: string }[] }) => {
    const system = request.messages.find((m) => m.role === "system")?.content ?? "";
    if (system.includes("compress a conversation")) return "NOTES: the user greeted twice.";
    return `${id}/${request.model} heard: ${request.messages.at(-1)?.content}`;
  };
  return {
    id,
    api: "test",
    async *streamChat(request) {
      yield { type: "text", text: reply(request) };
      yield { type: "finish", finishReason: "stop" };
    },
    completeChat: (request) =>
      Promise.resolve({ text: reply(request), toolCalls: [], finishReason: "stop" as const }),
    embed: () => Promise.reject(new Error("unused")),
    listModels: () => Promise.resolve([]),
  };
}

const config = {
  gateway: { auth: { mode: "token" as const, token: TOKEN } },
  models: { providers: {} },
  agents: { defaults: { model: "main/m1" } },
};

function gatewayWith(options: GatewayOptions = {}): Promise<Gateway> {
  return startGateway({
    config,
    checkResults: true,
    modules: [agentsModule({ providers: { main: echoProvider("main"), alt: echoProvider("alt") } })],
    ...options,
  });
}

async function call(c: TestClient, method: string, params: Record<string, unknown>) {
  const res = await c.request(method, params);
  if (!res.ok) throw new Error(`${method}: ${JSON.stringify(res.error)}`);
  return res.payload as Record<string, unknown>;
}

async function refused(c: TestClient, method: string, params: Record<string, unknown>) {
  const res = await c.request(method, params);
  assert.equal(res.ok, false, `${method} ${JSON.stringify(params)} should be refused`);
  return res.error as { code: string; message: string; details?: Record<string, unknown> };
}

function nextEvent(
  c: TestClient,
  event: string,
  match: (payload: Record<string, unknown>) => boolean = () => true,
) {
  const test = (f: Frame) => f.event === event && match(f.payload as Record<string, unknown>);
  const index = c.socket.skipped.findIndex(test);
  if (index >= 0) {
    return Promise.resolve(c.socket.skipped.splice(index, 1)[0].payload as Record<string, unknown>);
  }
  return c.socket.waitFor(test).then((f) => f.payload as Record<string, unknown>);
}

async function turn(c: TestClient, sessionKey: string, message: string) {
  const sent = await call(c, "chat.send", { sessionKey, message, idempotencyKey: crypto.randomUUID() });
  const waited = await call(c, "agent.wait", { runId: sent.runId, timeoutMs: 5_000 });
  assert.equal(waited.status, "ok");
}

Deno.test("sessions.create opens a labelled session, announces it, and adopts an existing key", async () => {
  const gateway = await gatewayWith();
  try {
    const c = await client(gateway, connectParams({ scopes: WRITE }));
    await call(c, "sessions.subscribe", {});
    const params = { key: "agent:main:work", label: "Work" };
    assertMatchesSchema("SessionsCreateParams", params);
    const created = await call(c, "sessions.create", params);
    assertMatchesSchema("SessionsCreateResult", created);
    assert.equal(created.key, "agent:main:work");
    assert.equal(created.runStarted, false);
    assert.deepEqual(created.resolved, { modelProvider: "main", model: "m1" });
    const event = await nextEvent(c, "sessions.changed", (p) => p.reason === "create");
    assert.equal(event.sessionKey, "agent:main:work");
    assert.equal(event.agentId, "main");
    assertMatchesSchema("SessionRow", event.session);
    assert.deepEqual(
      pick(event.session, [
        "label",
        "displayName",
        "archived",
        "pinned",
        "unread",
        "createdVia",
        "hasActiveRun",
      ]),
      {
        label: "Work",
        displayName: "Work",
        archived: false,
        pinned: false,
        unread: false,
        createdVia: "operator",
        hasActiveRun: false,
      },
    );

    // A second create of the key returns the same session (the reference adopts it).
    const again = await call(c, "sessions.create", { key: "agent:main:work" });
    assert.equal(again.sessionId, created.sessionId);
    // Labels name one session each, in the reference's words.
    const taken = await refused(c, "sessions.create", { key: "agent:main:other", label: "Work" });
    assert.equal(taken.message, "label already in use: Work");
    // No key: a fresh dashboard session of the agent, as the reference names them.
    const generated = await call(c, "sessions.create", { label: "Scratch" });
    assert.match(String(generated.key), /^agent:main:dashboard:[0-9a-f-]{36}$/);

    const list = await call(c, "sessions.list", {});
    assert.deepEqual((list.sessions as { label: string }[]).map((s) => s.label).sort(), ["Scratch", "Work"]);
    for (const row of list.sessions as unknown[]) assertMatchesSchema("SessionRow", row);
    const byLabel = await call(c, "sessions.list", { label: "Work" });
    assert.equal(byLabel.count, 1);

    // What the gateway cannot do is refused by name; admin-only asks need admin first.
    const unsupported = await refused(c, "sessions.create", { key: "agent:main:wt", worktree: true });
    assert.equal(unsupported.message, "sessions.create worktree is not supported by this gateway");
    const incognito = await refused(c, "sessions.create", { incognito: true });
    assert.equal(incognito.details?.missingScope, "operator.admin");
  } finally {
    await gateway.stop();
  }
});

Deno.test("sessions.create with a message starts its first turn", async () => {
  const gateway = await gatewayWith();
  try {
    const c = await client(gateway, connectParams({ scopes: WRITE }));
    const created = await call(c, "sessions.create", {
      key: "agent:main:kick",
      message: "hello",
      idempotencyKey: "k1",
    });
    assertMatchesSchema("SessionsCreateResult", created);
    assert.equal(created.runStarted, true);
    assert.equal(created.runId, "k1");
    assert.equal((await call(c, "agent.wait", { runId: "k1", timeoutMs: 5_000 })).status, "ok");
    const history = await call(c, "chat.history", { sessionKey: "agent:main:kick" });
    assert.deepEqual((history.messages as { role: string }[]).map((m) => m.role), ["user", "assistant"]);
  } finally {
    await gateway.stop();
  }
});

Deno.test("sessions.patch: label, pinned, unread, archive with expectedSessionId, and a model its turns use", async () => {
  const gateway = await gatewayWith();
  try {
    const c = await client(gateway, connectParams({ scopes: WRITE }));
    await call(c, "sessions.subscribe", {});
    const { sessionId } = await call(c, "sessions.create", { key: "agent:main:p", label: "Before" });
    const patch = { key: "agent:main:p", label: "After", pinned: true, unread: true, icon: "star" };
    assertMatchesSchema("SessionsPatchParams", patch);
    const patched = await call(c, "sessions.patch", patch);
    const entry = patched.entry as Record<string, unknown>;
    assertMatchesSchema("SessionRow", entry);
    assert.deepEqual(pick(entry, ["label", "pinned", "unread", "icon"]), {
      label: "After",
      pinned: true,
      unread: true,
      icon: "star",
    });
    assert.equal(typeof entry.pinnedAt, "number");
    const event = await nextEvent(c, "sessions.changed", (p) => p.reason === "patch");
    assert.equal((event.session as { label: string }).label, "After");
    const cleared = await call(c, "sessions.patch", { key: "agent:main:p", icon: null, unread: false });
    assert.equal((cleared.entry as { icon?: string }).icon, undefined);
    assert.equal((cleared.entry as { unread: boolean }).unread, false);

    // The UI's automatic "read" acknowledgement applies only while the unread mark is the one it saw.
    const marked = await call(c, "sessions.patch", { key: "agent:main:p", unread: true });
    const markedAt = (marked.entry as { markedUnreadAt: number }).markedUnreadAt;
    const ack = { key: "agent:main:p", unread: false, expectedMarkedUnreadAt: markedAt - 1 };
    assertMatchesSchema("SessionsPatchParams", ack);
    const stale = await call(c, "sessions.patch", ack);
    assert.equal((stale.entry as { unread: boolean }).unread, true, "a newer mark stands");
    const acked = await call(c, "sessions.patch", { ...ack, expectedMarkedUnreadAt: markedAt });
    assert.equal((acked.entry as { unread: boolean }).unread, false);
    const mixed = await refused(c, "sessions.patch", { ...ack, label: "x" });
    assert.equal(mixed.message, "expectedMarkedUnreadAt requires unread=false as the only mutation.");

    // Archiving names the transcript it means, as the reference insists.
    const bare = await refused(c, "sessions.patch", { key: "agent:main:p", archived: true });
    assert.equal(bare.message, "expectedSessionId required for session lifecycle patch: agent:main:p");
    const changed = await refused(c, "sessions.patch", {
      key: "agent:main:p",
      archived: true,
      expectedSessionId: "nope",
    });
    assert.equal(changed.message, "Session agent:main:p changed before patch. Retry.");
    assert.deepEqual(changed.details, { reason: "session-changed" });
    await call(c, "sessions.patch", { key: "agent:main:p", archived: true, expectedSessionId: sessionId });
    assert.equal(
      (await call(c, "sessions.list", {})).count,
      0,
      "archived sessions are not listed by default",
    );
    const archived = await call(c, "sessions.list", { archived: true });
    assert.deepEqual(
      (archived.sessions as { key: string; archived: boolean }[]).map((s) => [s.key, s.archived]),
      [
        ["agent:main:p", true],
      ],
    );
    assert.equal((await call(c, "sessions.list", { archived: "all" })).count, 1);
    await call(c, "sessions.patch", { key: "agent:main:p", archived: false, expectedSessionId: sessionId });
    assert.equal((await call(c, "sessions.list", {})).count, 1);

    // A model chosen for the session serves its turns until cleared.
    const chosen = await call(c, "sessions.patch", { key: "agent:main:p", model: "alt/m2" });
    assert.deepEqual(chosen.resolved, { modelProvider: "alt", model: "m2" });
    assert.equal((chosen.entry as { modelOverrideSource: string }).modelOverrideSource, "user");
    await turn(c, "agent:main:p", "which model?");
    const history = await call(c, "chat.history", { sessionKey: "agent:main:p" });
    const reply = historyText((history.messages as { content: string | { text: string }[] }[]).at(-1)!);
    assert.equal(reply, "alt/m2 heard: which model?");
    await call(c, "sessions.patch", { key: "agent:main:p", model: null });
    await turn(c, "agent:main:p", "and now?");
    const after = await call(c, "chat.history", { sessionKey: "agent:main:p" });
    assert.equal(
      historyText((after.messages as { content: string | { text: string }[] }[]).at(-1)!),
      "main/m1 heard: and now?",
    );
    const unknownModel = await refused(c, "sessions.patch", { key: "agent:main:p", model: "nowhere/x" });
    assert.equal(unknownModel.code, "NOT_FOUND");

    // Fields outside the write list need admin (the reference's rule); with admin, unsupported ones are named.
    const verbose = await refused(c, "sessions.patch", { key: "agent:main:p", verboseLevel: "on" });
    assert.equal(verbose.details?.missingScope, "operator.admin");
    const thinking = await refused(c, "sessions.patch", { key: "agent:main:p", thinkingLevel: "low" });
    assert.equal(thinking.message, "sessions.patch thinkingLevel is not supported by this gateway");
    const admin = await client(gateway, connectParams({ scopes: ADMIN }));
    const unsupported = await refused(admin, "sessions.patch", { key: "agent:main:p", verboseLevel: "on" });
    assert.equal(unsupported.message, "sessions.patch verboseLevel is not supported by this gateway");

    // Patching a key with no session opens it, as the reference does.
    const opened = await call(c, "sessions.patch", { key: "agent:main:draft", label: "Draft" });
    assert.equal((opened.entry as { label: string }).label, "Draft");
  } finally {
    await gateway.stop();
  }
});

Deno.test("sessions.delete: admin unless archivedOnly, never the main session, archives the transcript", async () => {
  const stateDir = await tempDir("openclaw-sessions-delete-");
  const gateway = await gatewayWith({ stores: jsonlStores(stateDir) });
  try {
    const writer = await client(gateway, connectParams({ scopes: WRITE }));
    await call(writer, "sessions.subscribe", {});
    await turn(writer, "agent:main:gone", "remember me");
    const { sessionId } = (await call(writer, "sessions.get", { key: "agent:main:gone" })).session as {
      sessionId: string;
    };
    const needsAdmin = await refused(writer, "sessions.delete", { key: "agent:main:gone" });
    assert.equal(needsAdmin.details?.missingScope, "operator.admin");
    const notArchived = await refused(writer, "sessions.delete", {
      key: "agent:main:gone",
      archivedOnly: true,
    });
    assert.equal(
      notArchived.message,
      "Session agent:main:gone is not archived. Archive it first, then delete it.",
    );
    await call(writer, "sessions.patch", {
      key: "agent:main:gone",
      archived: true,
      expectedSessionId: sessionId,
    });
    const deleted = await call(writer, "sessions.delete", { key: "agent:main:gone", archivedOnly: true });
    assertMatchesSchema("SessionsDeleteResult", deleted);
    assert.equal(deleted.deleted, true);
    const [archivedPath] = deleted.archived as string[];
    assert.match(archivedPath, new RegExp(`/agents/main/sessions/${sessionId}\\.jsonl\\.deleted\\.`));
    assert.match(await Deno.readTextFile(archivedPath), /remember me/);
    const event = await nextEvent(
      writer,
      "sessions.changed",
      (p) => p.reason === "delete" && "sessionKey" in p,
    );
    assert.deepEqual(pick(event, ["sessionKey", "sessionId", "agentId"]), {
      sessionKey: "agent:main:gone",
      sessionId,
      agentId: "main",
    });
    await nextEvent(writer, "sessions.changed", (p) => p.reason === "delete" && !("sessionKey" in p));
    assert.equal((await call(writer, "sessions.list", { archived: "all" })).count, 0);
    assert.deepEqual((await call(writer, "chat.history", { sessionKey: "agent:main:gone" })).messages, []);
    // Deleting again finds nothing, in the reference's shape.
    const admin = await client(gateway, connectParams({ scopes: ADMIN }));
    assert.deepEqual(await call(admin, "sessions.delete", { key: "agent:main:gone" }), {
      ok: true,
      key: "agent:main:gone",
      deleted: false,
      archived: [],
    });
    const main = await refused(admin, "sessions.delete", { key: "main" });
    assert.equal(main.message, "Cannot delete the main session (agent:main:main).");
    await call(admin, "sessions.create", { key: "agent:main:kept" });
    const stale = await refused(admin, "sessions.delete", {
      key: "agent:main:kept",
      expectedSessionId: "old",
    });
    assert.deepEqual(stale.details, { reason: "session-changed" });
  } finally {
    await gateway.stop();
  }
  // The deletion is in the durable log: a gateway opened on the same files does not see the session.
  const reopened = await gatewayWith({ stores: jsonlStores(stateDir) });
  try {
    const c = await client(reopened, connectParams({ scopes: WRITE }));
    const keys = ((await call(c, "sessions.list", { archived: "all" })).sessions as { key: string }[]).map((
      s,
    ) => s.key);
    assert.deepEqual(keys, ["agent:main:kept"]);
  } finally {
    await reopened.stop();
  }
});

Deno.test("sessions.compact: trims to maxLines, or summarises older turns with the model, with events", async () => {
  const gateway = await gatewayWith();
  try {
    const writer = await client(gateway, connectParams({ scopes: WRITE }));
    const denied = await refused(writer, "sessions.compact", { key: "main" });
    assert.equal(denied.details?.missingScope, "operator.admin");
    const c = await client(gateway, connectParams({ scopes: ADMIN }));
    await call(c, "sessions.subscribe", {});
    assert.deepEqual(await call(c, "sessions.compact", { key: "agent:main:none" }), {
      key: "agent:main:none",
      ok: true,
      compacted: false,
      reason: "no sessionId",
    });
    await turn(c, "agent:main:long", "one");
    const small = await call(c, "sessions.compact", { key: "agent:main:long" });
    assert.deepEqual(small, {
      key: "agent:main:long",
      ok: false,
      compacted: false,
      reason: "Nothing to compact (session too small)",
    });
    await call(c, "health", {});
    assert.equal(c.socket.skipped.some((f) => f.event === "session.operation"), false, "no operation ran");
    for (const message of ["two", "three", "four"]) await turn(c, "agent:main:long", message);

    const params = { key: "agent:main:long" };
    assertMatchesSchema("SessionsCompactParams", params);
    const compacted = await call(c, "sessions.compact", params);
    assert.equal(compacted.ok, true);
    assert.equal(compacted.compacted, true);
    const result = compacted.result as { summary: string; firstKeptEntryId: string };
    assert.equal(result.summary, "NOTES: the user greeted twice.");
    const start = await nextEvent(c, "session.operation", (p) => p.phase === "start");
    const end = await nextEvent(c, "session.operation", (p) => p.phase === "end");
    assertMatchesSchema("SessionOperationEvent", start);
    assertMatchesSchema("SessionOperationEvent", end);
    assert.equal(end.operationId, start.operationId);
    assert.equal(end.completed, true);
    await nextEvent(c, "sessions.changed", (p) => p.reason === "compact" && p.compacted === true);
    // The summary stands for turns one and two; the last two turns are kept word for word.
    const history = await call(c, "chat.history", { sessionKey: "agent:main:long" });
    const lines = history.messages as {
      role: string;
      content: string | { text: string }[];
      __openclaw: { seq: number };
    }[];
    assert.deepEqual(lines.map((m) => m.role), ["system", "user", "assistant", "user", "assistant"]);
    assert.equal(
      historyText(lines[0]),
      "Summary of the earlier conversation:\nNOTES: the user greeted twice.",
    );
    assert.deepEqual(lines.map((m) => m.__openclaw.seq), [1, 2, 3, 4, 5]);
    assert.equal(historyText(lines[1]), "three");
    // The next turn sees the summary, not the dropped lines, and appends after the kept ones.
    await turn(c, "agent:main:long", "five");
    assert.equal(
      ((await call(c, "chat.history", { sessionKey: "agent:main:long" })).messages as unknown[]).length,
      7,
    );

    const trimmed = await call(c, "sessions.compact", { key: "agent:main:long", maxLines: 2 });
    assert.deepEqual(trimmed, { key: "agent:main:long", ok: true, compacted: true, kept: 2 });
    const kept = await call(c, "chat.history", { sessionKey: "agent:main:long" });
    assert.deepEqual((kept.messages as { content: string | { text: string }[] }[]).map(historyText), [
      "five",
      "main/m1 heard: five",
    ]);
    assert.deepEqual(await call(c, "sessions.compact", { key: "agent:main:long", maxLines: 5 }), {
      key: "agent:main:long",
      ok: true,
      compacted: false,
      kept: 2,
    });
  } finally {
    await gateway.stop();
  }
});

Deno.test("sessions.messages.subscribe sends a session's lines until unsubscribe; describe and chat.metadata read it", async () => {
  const gateway = await gatewayWith();
  try {
    const c = await client(gateway, connectParams({ scopes: WRITE }));
    const params = { key: "agent:main:watched" };
    assertMatchesSchema("SessionsMessagesSubscribeParams", params);
    assert.deepEqual(await call(c, "sessions.messages.subscribe", params), {
      subscribed: true,
      key: "agent:main:watched",
    });
    await turn(c, "agent:main:watched", "first words here");
    const message = await nextEvent(c, "session.message", (p) => p.sessionKey === "agent:main:watched");
    assert.equal((message.message as { role: string }).role, "user");
    assertMatchesSchema("SessionsMessagesUnsubscribeParams", params);
    assert.deepEqual(await call(c, "sessions.messages.unsubscribe", params), {
      subscribed: false,
      key: "agent:main:watched",
    });
    c.socket.skipped.length = 0;
    await turn(c, "agent:main:watched", "unheard");
    await call(c, "health", {});
    assert.equal(c.socket.skipped.some((f) => f.event === "session.message"), false);

    const describeParams = {
      key: "agent:main:watched",
      includeDerivedTitles: true,
      includeLastMessage: true,
    };
    assertMatchesSchema("SessionsDescribeParams", describeParams);
    const described = (await call(c, "sessions.describe", describeParams)).session as Record<string, unknown>;
    assertMatchesSchema("SessionRow", described);
    assert.equal(described.derivedTitle, "first words here");
    assert.equal(described.lastMessagePreview, "main/m1 heard: unheard");
    // Turns since the session was opened make it unread until the UI acknowledges it.
    assert.equal(described.unread, true);
    assert.equal(typeof described.lastActivityAt, "number");
    const read = await call(c, "sessions.patch", {
      key: "agent:main:watched",
      unread: false,
      expectedMarkedUnreadAt: null,
    });
    assert.equal((read.entry as { unread: boolean }).unread, false);
    assert.deepEqual(await call(c, "sessions.describe", { key: "agent:main:never" }), { session: null });

    await call(c, "sessions.patch", { key: "agent:main:watched", model: "alt/m2" });
    const metaParams = { sessionKey: "agent:main:watched" };
    assertMatchesSchema("ChatMetadataParams", metaParams);
    const meta = await call(c, "chat.metadata", metaParams);
    assert.deepEqual(
      pick(meta, ["modelProvider", "model", "commands", "swarmEnabled", "runtimeSelectionLocked"]),
      {
        modelProvider: "alt",
        model: "m2",
        commands: [],
        swarmEnabled: false,
        runtimeSelectionLocked: false,
      },
    );
    assert.deepEqual(meta.accountSelection, { kind: "automatic", label: "Automatic account selection" });
    const startup = await call(c, "chat.startup", { sessionKey: "agent:main:watched" });
    const info = startup.sessionInfo as Record<string, unknown>;
    assertMatchesSchema("SessionRow", info);
    assert.deepEqual(pick(info, ["key", "model", "hasActiveRun"]), {
      key: "agent:main:watched",
      model: "m2",
      hasActiveRun: false,
    });
    assert.deepEqual(startup.defaults, { modelProvider: "main", model: "m1" });
  } finally {
    await gateway.stop();
  }
});

redisTest(
  "two gateways on one Redis: create, patch, compact and delete on one are seen by the other",
  async (redis) => {
    const keyPrefix = "sessions-methods:";
    const storesA = await redis.stores({ keyPrefix });
    const storesB = await redis.stores({ keyPrefix });
    const a = await gatewayWith({ stores: storesA });
    const b = await gatewayWith({ stores: storesB });
    try {
      const onA = await client(a, connectParams({ scopes: ADMIN }));
      const onB = await client(b, connectParams({ scopes: ADMIN }));
      await call(onB, "sessions.subscribe", {});
      const { sessionId } = await call(onA, "sessions.create", { key: "agent:main:shared", label: "Shared" });
      const announced = await nextEvent(onB, "sessions.changed", (p) => p.reason === "create");
      assert.equal((announced.session as { label: string }).label, "Shared");
      await call(onB, "sessions.patch", { key: "agent:main:shared", pinned: true });
      const row = ((await call(onA, "sessions.list", {})).sessions as Record<string, unknown>[])[0];
      assert.deepEqual(pick(row, ["key", "label", "pinned"]), {
        key: "agent:main:shared",
        label: "Shared",
        pinned: true,
      });
      const taken = await refused(onB, "sessions.create", { key: "agent:main:copy", label: "Shared" });
      assert.equal(taken.message, "label already in use: Shared");

      for (const message of ["one", "two", "three"]) await turn(onA, "agent:main:shared", message);
      const compacted = await call(onB, "sessions.compact", { key: "agent:main:shared" });
      assert.equal(compacted.compacted, true);
      const history = await call(onA, "chat.history", { sessionKey: "agent:main:shared" });
      assert.deepEqual((history.messages as { role: string }[]).map((m) => m.role), [
        "system",
        "user",
        "assistant",
        "user",
        "assistant",
      ]);

      await call(onA, "sessions.patch", {
        key: "agent:main:shared",
        archived: true,
        expectedSessionId: sessionId,
      });
      const deleted = await call(onB, "sessions.delete", { key: "agent:main:shared", archivedOnly: true });
      assert.equal(deleted.deleted, true);
      assert.match((deleted.archived as string[])[0], /^sessions-methods:transcript:.*:deleted:\d+$/);
      assert.equal((await call(onA, "sessions.list", { archived: "all" })).count, 0);
    } finally {
      await a.stop();
      await b.stop();
    }
  },
);

function pick(value: unknown, keys: string[]): Record<string, unknown> {
  const record = value as Record<string, unknown>;
  return Object.fromEntries(keys.filter((key) => key in record).map((key) => [key, record[key]]));
}
