// Sustained load must not pile up memory (issue 12, item 9). Each test warms a path up until every bounded
// cache is full (the run registry remembers 2,000 finished runs), counts the live objects a request
// creates, runs another batch, and counts again: the counts must not move. Counting happens in heap
// snapshots, which collect garbage first, so the assertion is about what is retained, not about timing.
import assert from "node:assert/strict";
import { join } from "node:path";
import v8 from "node:v8";
import { agentsModule } from "../lib/agents/mod.ts";
import { openAiHttpModule } from "../lib/http/openai/openai-module.ts";
import { FINISHED_RUN_CAP } from "../lib/state/runs.ts";
import { IDEMPOTENCY_MAX_ENTRIES, MemoryIdempotencyStore } from "../lib/state/idempotency.ts";
import { createGateway, type Gateway } from "../mod.ts";
import { client, TOKEN } from "./_helpers.ts";

/** What every request allocates and a leak would keep. */
const COUNTED = ["AbortSignal", "AbortController", "Promise"];
const WARM_UP = FINISHED_RUN_CAP + 100;
const BATCH = 1_000;
/** Allowed drift per constructor: timers, caches of the runtime itself. A leak adds at least one per request. */
const SLACK = 100;

/** Live objects per constructor name, from a heap snapshot of this process. */
async function liveObjects(): Promise<Record<string, number>> {
  // Objects a WeakRef was made to in the current task stay alive until it ends (AbortSignal.any makes
  // such refs), and an in-process batch can run as one task: let it end first.
  await new Promise((resolve) => setTimeout(resolve, 0));
  const dir = await Deno.makeTempDir({ prefix: "heap-" });
  try {
    const snapshot = JSON.parse(await Deno.readTextFile(v8.writeHeapSnapshot(join(dir, "h.heapsnapshot"))));
    const { node_fields: fields, node_types: [types] } = snapshot.snapshot.meta;
    const [typeAt, nameAt] = [fields.indexOf("type"), fields.indexOf("name")];
    const counts: Record<string, number> = Object.fromEntries(COUNTED.map((name) => [name, 0]));
    const nodes: number[] = snapshot.nodes;
    for (let i = 0; i < nodes.length; i += fields.length) {
      if (types[nodes[i + typeAt]] !== "object") continue;
      const name = snapshot.strings[nodes[i + nameAt]];
      if (name in counts) counts[name]++;
    }
    return counts;
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
}

/** An OpenAI-compatible upstream as a `fetch` function: whole or streamed replies, at once. */
function upstreamFetch(_input: string | URL | Request, init?: RequestInit): Promise<Response> {
  const body = JSON.parse(String(init?.body));
  if (!body.stream) {
    return Promise.resolve(Response.json({
      id: "up",
      choices: [{ index: 0, message: { role: "assistant", content: "hi" }, finish_reason: "stop" }],
    }));
  }
  const chunk = { id: "up", choices: [{ index: 0, delta: { content: "hi" }, finish_reason: "stop" }] };
  return Promise.resolve(
    new Response(`data: ${JSON.stringify(chunk)}\n\ndata: [DONE]\n\n`, {
      headers: { "content-type": "text/event-stream" },
    }),
  );
}

async function startGateway(): Promise<Gateway> {
  const agents = agentsModule({ fetch: upstreamFetch });
  const gateway = createGateway({
    config: {
      gateway: {
        auth: { mode: "token", token: TOKEN },
        http: { endpoints: { chatCompletions: { enabled: true } } },
      },
      models: {
        providers: {
          up: { baseUrl: "http://upstream.invalid/v1", api: "openai-completions", models: [{ id: "m1" }] },
        },
      },
      agents: { defaults: { model: { primary: "up/m1" } } },
    },
    modules: [agents, openAiHttpModule({ agents })],
  });
  await gateway.start();
  return gateway;
}

/** Runs `once` `n` times, `width` at a time. */
async function repeat(n: number, once: () => Promise<void>, width = 16): Promise<void> {
  let next = 0;
  await Promise.all(Array.from({ length: width }, async () => {
    while (next++ < n) await once();
  }));
}

async function assertFlat(once: () => Promise<void>, width?: number, warmUp = WARM_UP): Promise<void> {
  await repeat(warmUp, once, width);
  const before = await liveObjects();
  await repeat(BATCH, once, width);
  const after = await liveObjects();
  for (const name of COUNTED) {
    assert.ok(
      after[name] - before[name] <= SLACK,
      `${name}: ${before[name]} live before ${BATCH} more requests, ${after[name]} after`,
    );
  }
}

function chatRequest(stream: boolean): Request {
  return new Request("http://gateway.test/v1/chat/completions", {
    method: "POST",
    headers: { authorization: `Bearer ${TOKEN}`, "content-type": "application/json" },
    body: JSON.stringify({ model: "openclaw", stream, messages: [{ role: "user", content: "hello" }] }),
  });
}

for (const stream of [false, true]) {
  Deno.test(`memory: stateless ${stream ? "streamed" : "whole"} chat completions retain nothing per request`, async () => {
    const gateway = await startGateway();
    try {
      await assertFlat(async () => {
        const response = await gateway.fetch(chatRequest(stream));
        const text = await response.text();
        assert.equal(response.status, 200, text);
      });
    } finally {
      await gateway.stop();
    }
  });
}

Deno.test("memory: chat.send over WS retains nothing per message once its run ended", async () => {
  const gateway = await startGateway();
  try {
    const { socket } = await client(gateway);
    let turn = 0;
    await assertFlat(
      async () => {
        const id = `t-${++turn}`;
        // Sessions are state by design; the messages go to a fixed set of them.
        socket.send({
          type: "req",
          id,
          method: "chat.send",
          params: { sessionKey: `soak-${turn % 16}`, message: "hello", idempotencyKey: id },
        });
        // The run may end before or after chat.send is answered; the turn is over once both happened.
        let runId: string | undefined;
        const finals = new Set<string>();
        while (!runId || !finals.has(runId)) {
          const frame = await socket.next();
          const payload = frame.payload as { runId?: string; state?: string };
          if (frame.type === "res" && frame.id === id) {
            assert.equal(frame.ok, true, JSON.stringify(frame.error));
            runId = payload.runId;
          } else if (frame.event === "chat" && payload.state === "final") finals.add(payload.runId!);
        }
      },
      1,
      Math.max(FINISHED_RUN_CAP, IDEMPOTENCY_MAX_ENTRIES) + 100,
    );
    socket.close();
  } finally {
    await gateway.stop();
  }
});

Deno.test("memory: the idempotency store keeps at most its cap, dropping the oldest records", async () => {
  const store = new MemoryIdempotencyStore(() => 0, 60_000, 3);
  let runs = 0;
  const work = () => Promise.resolve(++runs);
  for (const key of ["a", "b", "c", "d"]) await store.run("ns", key, "", work);
  assert.equal(await store.run("ns", "d", "", work), 4, "a recent key is answered from its record");
  assert.equal(await store.run("ns", "a", "", work), 5, "the oldest key was dropped and runs again");
});
