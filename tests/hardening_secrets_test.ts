// Hardening II (issue 13): secrets by value (4), idempotency across callers (10), presence ownership (11),
// state dir modes (13) and one session key validator (14).
import assert from "node:assert/strict";
import { join } from "node:path";
import { jsonlStores } from "../lib/agents/jsonl-stores.ts";
import { agentsModule, openAiHttpModule } from "../lib/agents/mod.ts";
import { hooksModule } from "../lib/hooks/mod.ts";
import { toolsModule } from "../lib/tools/mod.ts";
import type { SessionEntry, TranscriptEntry } from "../lib/agents/stores.ts";
import { runCli } from "../runner/cli/dispatch.ts";
import { allCommands } from "../runner/commands/index.ts";
import { client, connectParams, startGateway, TOKEN } from "./_helpers.ts";

const tick = () => new Promise((r) => setTimeout(r, 0));

// ---- 11. presence rows belong to the connection (or device) that wrote them -------------------------

Deno.test("presence: a client copying another's instanceId neither replaces nor removes its row", async () => {
  const gateway = await startGateway();
  const ui = (id: string) =>
    connectParams({ client: { id, version: "1", platform: "linux", mode: "ui", instanceId: "shared-1" } });
  await client(gateway, ui("openclaw-control-ui"));
  const attacker = await client(gateway, ui("openclaw-macos"));
  const rows = () => gateway.state.presence().filter((r) => r.instanceId === "shared-1");
  assert.equal(rows().length, 2, "each connection keeps its own row");
  attacker.socket.close();
  await attacker.socket.closed;
  await tick();
  assert.deepEqual(rows().map((r) => r.host), ["openclaw-control-ui"], "the victim's row survives");
  await gateway.stop();
});

// ---- 13. everything under the state dir is owner-only -----------------------------------------------

const modeOf = async (path: string) => (await Deno.stat(path)).mode! & 0o777;

Deno.test("state: transcripts, sessions.jsonl and agent dirs are created owner-only", async () => {
  const state = await Deno.makeTempDir();
  try {
    const { sessions, transcripts } = jsonlStores(state);
    await transcripts.append({ agentId: "main", sessionId: "s1" }, [
      { id: "e1", seq: 1, ts: 1, role: "user", content: "hi" } as TranscriptEntry,
    ]);
    await sessions.put({ key: "agent:main:main", sessionId: "s1", updatedAt: 1 } as SessionEntry);
    assert.equal(await modeOf(join(state, "agents")), 0o700);
    assert.equal(await modeOf(join(state, "agents", "main")), 0o700);
    assert.equal(await modeOf(join(state, "agents", "main", "sessions")), 0o700);
    assert.equal(await modeOf(join(state, "agents", "main", "sessions", "s1.jsonl")), 0o600);
    assert.equal(await modeOf(join(state, "agents", "sessions.jsonl")), 0o600);
  } finally {
    await Deno.remove(state, { recursive: true });
  }
});

async function doctorCli(home: string, argv: string[]) {
  const out: string[] = [];
  const code = await runCli(argv, {
    output: { out: (t) => out.push(t), err: (t) => out.push(t) },
    env: { HOME: home },
    osHome: home,
    shutdownSignal: new AbortController().signal,
    commands: allCommands({ isTerminal: false }),
    version: "test",
  });
  return { code, out: out.join("\n") };
}

Deno.test("state: doctor reports loose modes under the state dir and --fix tightens them", async () => {
  const home = await Deno.makeTempDir();
  try {
    const state = join(home, ".openclaw");
    const sessions = join(state, "agents", "main", "sessions");
    await Deno.mkdir(sessions, { recursive: true });
    await Deno.writeTextFile(join(state, "openclaw.json"), JSON.stringify({ gateway: { mode: "local" } }));
    await Deno.writeTextFile(join(sessions, "s1.jsonl"), "{}\n");
    await Deno.writeTextFile(join(state, "agents", "sessions.jsonl"), "{}\n");
    await Deno.mkdir(join(state, "workspace"));
    await Deno.writeTextFile(join(state, "workspace", "run.sh"), "#!/bin/sh\n");
    for (
      const [path, mode] of [
        [state, 0o755],
        [join(state, "agents"), 0o755],
        [join(state, "agents", "main"), 0o755],
        [sessions, 0o755],
        [join(sessions, "s1.jsonl"), 0o644],
        [join(state, "agents", "sessions.jsonl"), 0o644],
        [join(state, "workspace", "run.sh"), 0o755],
      ] as const
    ) await Deno.chmod(path, mode);
    const report = JSON.parse((await doctorCli(home, ["doctor", "--json"])).out);
    const finding = report.checks.find((c: { id: string }) => c.id === "state-files-permissions");
    assert.equal(finding.status, "warn");
    assert.match(finding.message, /readable by others/);
    await doctorCli(home, ["doctor", "--fix", "--json"]);
    assert.equal(await modeOf(state), 0o700);
    assert.equal(await modeOf(join(state, "agents", "main")), 0o700);
    assert.equal(await modeOf(sessions), 0o700);
    assert.equal(await modeOf(join(sessions, "s1.jsonl")), 0o600);
    assert.equal(await modeOf(join(state, "agents", "sessions.jsonl")), 0o600);
    assert.equal(await modeOf(join(state, "workspace", "run.sh")), 0o700, "the owner's execute bit stays");
    const after = JSON.parse((await doctorCli(home, ["doctor", "--json"])).out);
    const tree = after.checks.find((c: { id: string }) => c.id === "state-files-permissions");
    assert.equal(tree.status, "ok", tree.message);
  } finally {
    await Deno.remove(home, { recursive: true });
  }
});

// ---- 10. an idempotency key reused by another caller ------------------------------------------------

Deno.test("idempotency: another caller's reuse of a key is refused, never answered with the first run", async () => {
  const gateway = await startGateway({ modules: [agentsModule()] });
  const alice = await client(gateway);
  const bob = await client(gateway);
  const send = (c: typeof alice, sessionKey: string, message: string) =>
    c.request("chat.send", { sessionKey, message, idempotencyKey: "k-shared" });
  const first = await send(alice, "alice-thread", "alice's secret plan");
  assert.equal(first.ok, true);
  const runId = (first.payload as { runId: string }).runId;

  for (
    const [sessionKey, message] of [["alice-thread", "bob's question"], ["bob-thread", "alice's secret plan"]]
  ) {
    const reused = await send(bob, sessionKey, message);
    assert.equal(reused.ok, false, "a different request with a used key is refused");
    const error = reused.error as { code: string; message: string; details: { reason: string } };
    assert.equal(error.code, "INVALID_REQUEST");
    assert.equal(error.details.reason, "chat-request-conflict");
    assert.match(error.message, /new key/);
    assert.ok(!JSON.stringify(reused).includes(runId), "bob never learns alice's run id");
  }
  const agentReuse = await bob.request("agent", { message: "bob", idempotencyKey: "k-shared" });
  assert.equal(agentReuse.ok, true, "keys are per method: agent runs its own turn");
  assert.notEqual((agentReuse.payload as { runId: string }).runId, runId);

  // A true retry (same request, even from a new connection) still gets the original run.
  const retry = await send(await client(gateway), "alice-thread", "alice's secret plan");
  assert.equal((retry.payload as { runId: string }).runId, runId);
  await gateway.stop();
});

// ---- 14. one session key validator wherever a key enters --------------------------------------------

const BAD_KEYS = [
  "a\u0000b",
  "../../etc/passwd",
  "notes/../../x",
  "agent:main:..",
  "agent:main:a\\..\\b",
  "agent:bad",
];

Deno.test("session keys: WS methods fold case, refuse reserved namespaces in any case, NUL and dot segments", async () => {
  const gateway = await startGateway({ modules: [agentsModule()] });
  const c = await client(gateway);
  let n = 0;
  const send = (sessionKey: string) =>
    c.request("chat.send", { sessionKey, message: "hi", idempotencyKey: `k-${++n}` });
  for (const reserved of ["SUBAGENT:x", "subagent:x", "Cron:job", "agent:main:ACP:x"]) {
    const refused = await send(reserved);
    assert.equal(refused.ok, false, reserved);
    assert.match((refused.error as { message: string }).message, /reserved namespace/, reserved);
  }
  for (const bad of BAD_KEYS) {
    const refused = await send(bad);
    assert.equal(refused.ok, false, JSON.stringify(bad));
    const error = refused.error as { code: string; message: string; details: { reason: string } };
    assert.equal(error.code, "INVALID_REQUEST");
    assert.equal(error.details.reason, "invalid-session-key");
    assert.match(error.message, /^invalid session key /);
  }
  assert.equal((await send("Thread-A")).ok, true);
  const history = await c.request("chat.history", { sessionKey: "thread-a" });
  assert.equal(history.ok, true);
  const rows = await c.request("sessions.list", {});
  const keys = (rows.payload as { sessions: { key: string }[] }).sessions.map((s) => s.key);
  assert.ok(keys.includes("agent:main:thread-a"), keys.join(","));
  assert.ok(!keys.some((k) => k !== k.toLowerCase()), "stored keys are folded");
  await gateway.stop();
});

Deno.test("session keys: /v1 header and user-derived keys go through the same validator", async () => {
  const agents = agentsModule();
  const gateway = await startGateway({
    config: {
      gateway: {
        auth: { mode: "token", token: TOKEN },
        http: { endpoints: { chatCompletions: { enabled: true } } },
      },
    },
    modules: [agents, openAiHttpModule({ agents })],
  });
  const post = (body: Record<string, unknown>, headers: Record<string, string> = {}) =>
    gateway.fetch(
      new Request("http://127.0.0.1/v1/chat/completions", {
        method: "POST",
        headers: { authorization: `Bearer ${TOKEN}`, "content-type": "application/json", ...headers },
        body: JSON.stringify({ model: "openclaw", messages: [{ role: "user", content: "hi" }], ...body }),
      }),
    );
  for (const headers of [{ "x-openclaw-session-key": "SUBAGENT:x" }, { "x-openclaw-session-key": "../x" }]) {
    const response = await post({}, headers);
    assert.equal(response.status, 400, JSON.stringify(headers));
    assert.equal((await response.json()).error.type, "invalid_request_error");
  }
  for (const user of ["eve\u0000", "../../alice"]) {
    const response = await post({ user });
    assert.equal(response.status, 400, JSON.stringify(user));
    assert.match((await response.json()).error.message, /invalid session key/);
  }
  const ok = await post({ user: "Bob" });
  assert.equal(ok.status, 200);
  await ok.body?.cancel();
  await gateway.stop();
});

Deno.test("session keys: hooks and tools refuse invalid keys with a 400, not a crash", async () => {
  const agents = agentsModule();
  const gateway = await startGateway({
    config: {
      gateway: { auth: { mode: "token", token: TOKEN } },
      hooks: { enabled: true, token: "hook-token-abcdef", allowRequestSessionKey: true },
    },
    modules: [agents, toolsModule({ agents }), hooksModule({ agents })],
  });
  const hook = await gateway.fetch(
    new Request("http://127.0.0.1/hooks/agent", {
      method: "POST",
      headers: { authorization: "Bearer hook-token-abcdef", "content-type": "application/json" },
      body: JSON.stringify({ message: "hi", sessionKey: "hook:a\u0000b" }),
    }),
  );
  assert.equal(hook.status, 400);
  assert.match(JSON.stringify(await hook.json()), /invalid session key/);
  const c = await client(gateway, connectParams({ scopes: ["operator.admin"] }));
  const tool = await c.request("tools.invoke", { name: "sessions_history", args: { sessionKey: "../../x" } });
  assert.match(JSON.stringify(tool), /invalid session key/);
  await gateway.stop();
});
