// The official `openai` SDK against a gateway on a real loopback port, proxying to a real
// OpenAI-compatible upstream on loopback (which records what reached it).
import assert from "node:assert/strict";
import OpenAI from "openai";
import { agentsModule } from "../lib/agents/mod.ts";
import { openAiHttpModule } from "../lib/http/openai/openai-module.ts";
import { hashEmbedding } from "../lib/providers/local.ts";
import { createGateway, type Gateway, type GatewayConfig } from "../mod.ts";
import { denoTransport } from "../deno.ts";
import { type FakeUpstream, startFakeUpstream } from "./_upstream.ts";

const TOKEN = "sdk-test-token-0123456789";

interface Harness {
  gateway: Gateway;
  upstream: FakeUpstream;
  base: string;
  client: OpenAI;
  [Symbol.asyncDispose](): Promise<void>;
}

async function harness(enabled = true): Promise<Harness> {
  const upstream = startFakeUpstream();
  const config: GatewayConfig = {
    gateway: {
      auth: { mode: "token", token: TOKEN },
      http: { endpoints: { chatCompletions: { enabled } } },
    },
    models: {
      providers: {
        up: { baseUrl: upstream.url, apiKey: "${UP_KEY}", api: "openai-completions", models: [{ id: "m1" }] },
      },
    },
    agents: {
      defaults: { model: { primary: "up/m1" } },
      entries: { main: {}, research: { model: "local/scripted-1" } },
    },
  };
  const agents = agentsModule();
  const gateway = createGateway({
    config,
    env: { UP_KEY: "upstream-secret" },
    transport: denoTransport(),
    hostname: "127.0.0.1",
    port: 0,
    modules: [agents, openAiHttpModule({ agents })],
  });
  const address = await gateway.start();
  const base = `http://127.0.0.1:${address!.port}/v1`;
  return {
    gateway,
    upstream,
    base,
    client: new OpenAI({ baseURL: base, apiKey: TOKEN, maxRetries: 0 }),
    async [Symbol.asyncDispose]() {
      await gateway.stop();
      await upstream.close();
    },
  };
}

Deno.test("models: list and retrieve the agent targets", async () => {
  await using h = await harness();
  const models = await h.client.models.list();
  assert.deepEqual(models.data.map((m) => m.id), [
    "openclaw",
    "openclaw/default",
    "openclaw/main",
    "openclaw/research",
  ]);
  const one = await h.client.models.retrieve("openclaw/main");
  assert.deepEqual(one, {
    id: "openclaw/main",
    object: "model",
    created: 0,
    owned_by: "openclaw",
    permission: [],
  });
  await assert.rejects(h.client.models.retrieve("openclaw/ghost"), (e) => e instanceof OpenAI.NotFoundError);
});

Deno.test("chat completions, non-streaming, are proxied to the agent's upstream model", async () => {
  await using h = await harness();
  const completion = await h.client.chat.completions.create({
    model: "openclaw/default",
    messages: [{ role: "system", content: "Be brief." }, { role: "user", content: "hi" }],
  });
  assert.equal(completion.object, "chat.completion");
  assert.equal(completion.choices[0].message.content, "Hello from upstream.");
  assert.equal(completion.choices[0].finish_reason, "stop");
  assert.deepEqual(completion.usage, { prompt_tokens: 5, completion_tokens: 3, total_tokens: 8 });
  const sent = h.upstream.requests.at(-1)!;
  assert.equal(sent.path, "/v1/chat/completions");
  assert.equal(sent.headers.get("authorization"), "Bearer upstream-secret");
  assert.equal(sent.body.model, "m1");
  assert.deepEqual(sent.body.messages, [{ role: "system", content: "Be brief." }, {
    role: "user",
    content: "hi",
  }]);
});

Deno.test("chat completions stream chunk by chunk and end with [DONE]", async () => {
  await using h = await harness();
  const stream = await h.client.chat.completions.create({
    model: "openclaw",
    stream: true,
    stream_options: { include_usage: true },
    messages: [{ role: "user", content: "hi" }],
  });
  const contents: string[] = [];
  let finish: string | null = null;
  let usage: unknown;
  for await (const chunk of stream) {
    if (chunk.usage) usage = chunk.usage;
    const choice = chunk.choices[0];
    if (choice?.delta.content) contents.push(choice.delta.content);
    if (choice?.finish_reason) finish = choice.finish_reason;
  }
  assert.deepEqual(contents, ["Hello", " from", " upstream."]);
  assert.equal(finish, "stop");
  assert.deepEqual(usage, { prompt_tokens: 5, completion_tokens: 3, total_tokens: 8 });
  assert.equal(h.upstream.requests.at(-1)!.body.stream, true);
});

Deno.test("x-openclaw-model routes to another backend model; the model field picks the agent", async () => {
  await using h = await harness();
  await h.client.chat.completions.create(
    { model: "openclaw", messages: [{ role: "user", content: "hi" }] },
    { headers: { "x-openclaw-model": "up/m2" } },
  );
  assert.equal(h.upstream.requests.at(-1)!.body.model, "m2");
  const before = h.upstream.requests.length;
  const local = await h.client.chat.completions.create({
    model: "openclaw/research",
    messages: [{ role: "user", content: "what is new" }],
  });
  assert.equal(local.choices[0].message.content, 'Local model reply #1: you said "what is new".');
  assert.equal(
    h.upstream.requests.length,
    before,
    "the research agent's local model never calls the upstream",
  );
});

Deno.test("a stable `user` keeps one session across requests", async () => {
  await using h = await harness();
  const ask = (content: string) =>
    h.client.chat.completions.create({
      model: "openclaw/research",
      user: "conv-1",
      messages: [{ role: "user", content }],
    });
  await ask("one");
  const second = await ask("two");
  assert.equal(second.choices[0].message.content, 'Local model reply #2: you said "two".');
});

Deno.test("responses, non-streaming and streaming", async () => {
  await using h = await harness();
  const response = await h.client.responses.create({
    model: "openclaw",
    input: "hi",
    instructions: "Be brief.",
  });
  assert.equal(response.status, "completed");
  assert.equal(response.output_text, "Hello from upstream.");
  assert.equal(response.usage?.total_tokens, 8);
  const sent = h.upstream.requests.at(-1)!.body.messages;
  assert.deepEqual(sent, [{ role: "system", content: "Be brief." }, { role: "user", content: "hi" }]);

  const stream = await h.client.responses.create({ model: "openclaw", input: "hi", stream: true });
  const types: string[] = [];
  const deltas: string[] = [];
  let completed: OpenAI.Responses.Response | undefined;
  for await (const event of stream) {
    types.push(event.type);
    if (event.type === "response.output_text.delta") deltas.push(event.delta);
    if (event.type === "response.completed") completed = event.response;
  }
  assert.deepEqual(deltas, ["Hello", " from", " upstream."]);
  assert.equal(types[0], "response.created");
  assert.equal(types.at(-1), "response.completed");
  assert.equal(completed?.output_text ?? completed?.output.length, 1);

  const followUp = await h.client.responses.create({
    model: "openclaw/research",
    input: "first",
  });
  const next = await h.client.responses.create({
    model: "openclaw/research",
    input: "second",
    previous_response_id: followUp.id,
  });
  assert.equal(next.output_text, 'Local model reply #2: you said "second".');
});

Deno.test("embeddings: the local model by default, the upstream with x-openclaw-model", async () => {
  await using h = await harness();
  const local = await h.client.embeddings.create({ model: "openclaw", input: ["alpha beta", "gamma"] });
  assert.equal(local.data.length, 2);
  const expected = hashEmbedding("alpha beta");
  assert.equal(local.data[0].embedding.length, expected.length);
  local.data[0].embedding.forEach((x, i) => assert.ok(Math.abs(x - expected[i]) < 1e-6));
  const proxied = await h.client.embeddings.create(
    { model: "openclaw", input: ["a", "b"], encoding_format: "float" },
    { headers: { "x-openclaw-model": "up/embed-1" } },
  );
  assert.deepEqual(proxied.data.map((d) => d.embedding), [[0, 0.5, -1], [1, 0.5, -1]]);
  assert.equal(h.upstream.requests.at(-1)!.body.model, "embed-1");
});

Deno.test("errors: unknown agent 400, bad token 401, upstream failure 502, bad JSON 400", async () => {
  await using h = await harness();
  await assert.rejects(
    h.client.chat.completions.create({ model: "openclaw/nope", messages: [{ role: "user", content: "x" }] }),
    (e) => e instanceof OpenAI.BadRequestError && e.message.includes("Unknown agent 'nope'."),
  );
  const wrong = new OpenAI({ baseURL: h.base, apiKey: "wrong", maxRetries: 0 });
  await assert.rejects(wrong.models.list(), (e) => e instanceof OpenAI.AuthenticationError);
  await assert.rejects(
    h.client.chat.completions.create(
      { model: "openclaw", messages: [{ role: "user", content: "x" }] },
      { headers: { "x-openclaw-model": "up/broken" } },
    ),
    (e) => e instanceof OpenAI.APIError && e.status === 502 && e.message.includes("model exploded"),
  );
  await assert.rejects(
    h.client.chat.completions.create({
      model: "openclaw",
      messages: [{ role: "user", content: "x" }],
      temperature: 3,
    }),
    (e) => e instanceof OpenAI.BadRequestError && e.message.includes("temperature"),
  );
  const bad = await fetch(`${h.base}/chat/completions`, {
    method: "POST",
    headers: { authorization: `Bearer ${TOKEN}`, "content-type": "application/json" },
    body: "{bad",
  });
  assert.equal(bad.status, 400);
  assert.equal((await bad.json()).error.type, "invalid_request_error");
  const reserved = await fetch(`${h.base}/chat/completions`, {
    method: "POST",
    headers: { authorization: `Bearer ${TOKEN}`, "x-openclaw-session-key": "cron:nightly" },
    body: JSON.stringify({ model: "openclaw", messages: [{ role: "user", content: "x" }] }),
  });
  assert.equal(reserved.status, 400);
  assert.match((await reserved.json()).error.message, /reserved namespace 'cron:'/);
});

Deno.test("a client that disconnects mid-stream aborts the upstream request", async () => {
  await using h = await harness();
  const controller = new AbortController();
  const response = await fetch(`${h.base}/chat/completions`, {
    method: "POST",
    signal: controller.signal,
    headers: { authorization: `Bearer ${TOKEN}`, "x-openclaw-model": "up/slow" },
    body: JSON.stringify({ model: "openclaw", stream: true, messages: [{ role: "user", content: "x" }] }),
  });
  assert.equal(response.status, 200);
  const reader = response.body!.getReader();
  const first = new TextDecoder().decode((await reader.read()).value);
  assert.match(first, /"role":"assistant"/);
  controller.abort();
  await reader.cancel().catch(() => {});
  let timer: ReturnType<typeof setTimeout> | undefined;
  const timeout = new Promise<string>((resolve) => timer = setTimeout(() => resolve("timeout"), 3000));
  const seen = await Promise.race([h.upstream.aborted.then(() => "aborted"), timeout]);
  clearTimeout(timer);
  assert.equal(seen, "aborted", "the upstream saw its request cancelled");
});

Deno.test("the /v1 routes answer 404 Not Found until enabled", async () => {
  await using h = await harness(false);
  const response = await fetch(`${h.base}/models`, { headers: { authorization: `Bearer ${TOKEN}` } });
  assert.equal(response.status, 404);
  assert.equal(await response.text(), "Not Found");
});
