// Cross-replica defects, each proved at the gateway: keyed hook deliveries and keyed method calls keep
// separate caps; a `next-heartbeat` wake accepted by one replica reaches the heartbeat another runs.
import assert from "node:assert/strict";
import type { AgentTurns } from "../lib/channels/turns.ts";
import { hooksModule } from "../lib/hooks/mod.ts";
import { MemoryIdempotencyStore } from "../lib/state/idempotency.ts";
import {
  agentsModule,
  type ChatRequest,
  createGateway,
  type Gateway,
  type GatewayModule,
  memoryStores,
  type ModelProvider,
} from "../mod.ts";
import { startGateway, TOKEN } from "./_helpers.ts";

const HOOK_TOKEN = "hook-token-0123456789";

/** Turns that start nothing but a counted run id. */
function countingTurns(runs: { n: number }): AgentTurns {
  return {
    start: (request) => ({
      runId: `run-${++runs.n}`,
      agentId: "main",
      sessionKey: request.sessionKey ?? "main",
      done: new Promise(() => {}),
    }),
    hasAgent: (id) => id === "main",
    defaultAgentId: () => "main",
    sessionKey: (agentId, sessionKey = "main") => `agent:${agentId}:${sessionKey}`,
  };
}

/** A method that counts how often it really ran. */
function countingModule(runs: { n: number }): GatewayModule {
  return {
    name: "counting",
    setup(ctx) {
      ctx.registerMethod("test.count", "operator.write", () => ({ n: ++runs.n }));
    },
  };
}

function postHook(gateway: Gateway, body: unknown, path = "/hooks/agent"): Promise<Response> {
  return gateway.fetch(
    new Request(`http://gw${path}`, {
      method: "POST",
      headers: { authorization: `Bearer ${HOOK_TOKEN}`, "content-type": "application/json" },
      body: JSON.stringify(body),
    }),
  );
}

Deno.test("a flood of keyed hook deliveries never evicts a keyed method call's outcome, nor the reverse", async () => {
  const cap = 5;
  const turns = { n: 0 };
  const calls = { n: 0 };
  const gateway = createGateway({
    config: {
      gateway: { auth: { mode: "token", token: TOKEN } },
      hooks: { enabled: true, token: HOOK_TOKEN },
    },
    stores: { idempotency: new MemoryIdempotencyStore(() => Date.now(), undefined, cap) },
    modules: [hooksModule({ turns: countingTurns(turns) }), countingModule(calls)],
  });
  await gateway.start();
  try {
    assert.deepEqual(await gateway.call("test.count", { idempotencyKey: "method-1" }), { n: 1 });
    for (let i = 0; i < cap * 3; i++) {
      await (await postHook(gateway, { message: "flood", idempotencyKey: `flood-${i}` })).body?.cancel();
    }
    assert.deepEqual(await gateway.call("test.count", { idempotencyKey: "method-1" }), { n: 1 });
    assert.equal(calls.n, 1, "the method's retry ran again: the hook flood evicted its outcome");
    const first = await (await postHook(gateway, { message: "hi", idempotencyKey: "hook-1" })).json();
    for (let i = 0; i < cap * 3; i++) await gateway.call("test.count", { idempotencyKey: `flood-${i}` });
    const retried = await (await postHook(gateway, { message: "hi", idempotencyKey: "hook-1" })).json();
    assert.deepEqual(
      retried,
      first,
      "the hook's retry started a new run: the method flood evicted its outcome",
    );
  } finally {
    await gateway.stop();
  }
});

/** A model that acknowledges every heartbeat and records what it was asked. */
function recordingModel(): { provider: ModelProvider; calls: ChatRequest[] } {
  const calls: ChatRequest[] = [];
  const provider: ModelProvider = {
    id: "fake",
    api: "test",
    async *streamChat(request) {
      calls.push(request);
      yield { type: "text", text: "HEARTBEAT_OK" };
      yield { type: "finish", finishReason: "stop" };
    },
    completeChat: () => Promise.reject(new Error("unused")),
    embed: () => Promise.reject(new Error("unused")),
    listModels: () => Promise.resolve([]),
  };
  return { provider, calls };
}

async function until(check: () => boolean, what: string, timeoutMs = 10_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!check()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 10));
  }
}

Deno.test("a next-heartbeat wake accepted by either replica is taken by the heartbeat the other may run", async () => {
  const stores = memoryStores();
  const { provider, calls } = recordingModel();
  const replica = () => {
    const agents = agentsModule({ providers: { fake: provider } });
    return startGateway({
      stores,
      config: {
        gateway: { auth: { mode: "token", token: TOKEN } },
        agents: { defaults: { model: "fake/m", heartbeat: { every: "200ms", target: "none" } } },
        hooks: { enabled: true, token: HOOK_TOKEN },
      },
      modules: [agents, hooksModule({ agents })],
    });
  };
  const [a, b] = [await replica(), await replica()];
  try {
    // One of the two runs the heartbeat (the cluster singleton): a wake sent to each reaches it.
    for (const [gateway, text] of [[a, "disk almost full"], [b, "deploy finished"]] as const) {
      const response = await postHook(gateway, { text, mode: "next-heartbeat" }, "/hooks/wake");
      assert.deepEqual(await response.json(), { ok: true, mode: "next-heartbeat", queued: true });
    }
    const systemOf = (call: ChatRequest) =>
      call.messages.filter((m) => m.role === "system").map((m) => String(m.content)).join("\n");
    const prompts = () => calls.map(systemOf).join("\n");
    await until(
      () => prompts().includes("- disk almost full") && prompts().includes("- deploy finished"),
      "both wakes in a heartbeat turn's system prompt",
    );
    const carrying = calls.filter((call) => systemOf(call).includes("Pending system events:"));
    assert.equal(carrying.flatMap((call) => systemOf(call).match(/- disk almost full/g) ?? []).length, 1);
    assert.equal(await stores.systemEvents.take("agent:main:main").then((left) => left.length), 0);
  } finally {
    await a.stop();
    await b.stop();
  }
});
