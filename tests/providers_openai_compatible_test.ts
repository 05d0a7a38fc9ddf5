// The OpenAI-compatible provider against a fake fetch: request shape, SSE parsing, errors, timeouts.
import assert from "node:assert/strict";
import { OpenAiCompatibleProvider } from "../lib/providers/openai-compatible.ts";
import type { ChatStreamEvent, FetchLike } from "../lib/providers/types.ts";
import { UpstreamError } from "../lib/providers/upstream-error.ts";
import { collectReply } from "../lib/providers/accumulate.ts";

function fakeFetch(answer: (url: string, body: Record<string, unknown>) => Response): {
  fetch: FetchLike;
  calls: { url: string; headers: Headers; body: Record<string, unknown> }[];
} {
  const calls: { url: string; headers: Headers; body: Record<string, unknown> }[] = [];
  return {
    calls,
    fetch: (input, init) => {
      const body = init?.body ? JSON.parse(String(init.body)) : {};
      calls.push({ url: String(input), headers: new Headers(init?.headers), body });
      return Promise.resolve(answer(String(input), body));
    },
  };
}

/** An SSE body split at awkward places, to prove the parser reassembles events across chunks. */
function choppedSse(text: string, size = 7): Response {
  const bytes = new TextEncoder().encode(text);
  return new Response(
    new ReadableStream({
      start(controller) {
        for (let i = 0; i < bytes.length; i += size) controller.enqueue(bytes.slice(i, i + size));
        controller.close();
      },
    }),
    { headers: { "content-type": "text/event-stream" } },
  );
}

const signal = new AbortController().signal;

Deno.test("streams text and tool-call fragments from SSE chunks split anywhere, with usage", async () => {
  const chunks = [
    { choices: [{ delta: { role: "assistant" } }] },
    { choices: [{ delta: { content: "Hi" } }] },
    { choices: [{ delta: { content: " there" } }] },
    {
      choices: [{
        delta: {
          tool_calls: [{ index: 0, id: "c1", type: "function", function: { name: "lookup", arguments: "" } }],
        },
      }],
    },
    { choices: [{ delta: { tool_calls: [{ index: 0, function: { arguments: '{"id":' } }] } }] },
    { choices: [{ delta: { tool_calls: [{ index: 0, function: { arguments: '"A-1"}' } }] } }] },
    { choices: [{ delta: {}, finish_reason: "tool_calls" }] },
    { choices: [], usage: { prompt_tokens: 4, completion_tokens: 6, total_tokens: 10 } },
  ];
  const body = chunks.map((c) => `data: ${JSON.stringify(c)}\r\n\r\n`).join("") +
    ": keep-alive\n\ndata: [DONE]\n\n";
  const { fetch, calls } = fakeFetch(() => choppedSse(body));
  const provider = new OpenAiCompatibleProvider({
    id: "up",
    baseUrl: "http://up.test/v1/",
    apiKey: "k",
    fetch,
  });
  const events: ChatStreamEvent[] = [];
  for await (
    const e of provider.streamChat({
      model: "m",
      messages: [{ role: "user", content: "hi" }],
      temperature: 0.2,
    }, signal)
  ) {
    events.push(e);
  }
  assert.equal(calls[0].url, "http://up.test/v1/chat/completions");
  assert.equal(calls[0].headers.get("authorization"), "Bearer k");
  assert.deepEqual(calls[0].body, {
    model: "m",
    messages: [{ role: "user", content: "hi" }],
    temperature: 0.2,
    stream: true,
    stream_options: { include_usage: true },
  });
  assert.deepEqual(events.filter((e) => e.type === "text").map((e) => e.type === "text" && e.text), [
    "Hi",
    " there",
  ]);
  const reply = await collectReply((async function* () {
    yield* events;
  })());
  assert.deepEqual(reply, {
    text: "Hi there",
    toolCalls: [{ id: "c1", name: "lookup", arguments: '{"id":"A-1"}' }],
    finishReason: "tool_calls",
    usage: { inputTokens: 4, outputTokens: 6, totalTokens: 10 },
  });
});

Deno.test("non-streaming completions map message, tool calls and usage", async () => {
  const { fetch, calls } = fakeFetch(() =>
    Response.json({
      choices: [{
        message: { content: null, tool_calls: [{ id: "t", function: { name: "f", arguments: "{}" } }] },
        finish_reason: "tool_calls",
      }],
      usage: { prompt_tokens: 1, completion_tokens: 2, total_tokens: 3 },
    })
  );
  const provider = new OpenAiCompatibleProvider({ id: "up", baseUrl: "http://up.test/v1", fetch });
  const result = await provider.completeChat({
    model: "m",
    messages: [
      { role: "user", content: "x" },
      { role: "assistant", content: "", toolCalls: [{ id: "t0", name: "f", arguments: "{}" }] },
      { role: "tool", content: "42", toolCallId: "t0" },
    ],
    tools: [{ name: "f", parameters: { type: "object" } }],
    toolChoice: { name: "f" },
    maxTokens: 9,
  }, signal);
  assert.deepEqual(result, {
    text: "",
    toolCalls: [{ id: "t", name: "f", arguments: "{}" }],
    finishReason: "tool_calls",
    usage: { inputTokens: 1, outputTokens: 2, totalTokens: 3 },
  });
  const sent = calls[0].body;
  assert.equal(calls[0].headers.get("authorization"), null, "no key, no Authorization header");
  assert.deepEqual(sent.tool_choice, { type: "function", function: { name: "f" } });
  assert.equal(sent.max_tokens, 9);
  assert.deepEqual((sent.messages as unknown[])[1], {
    role: "assistant",
    content: "",
    tool_calls: [{ id: "t0", type: "function", function: { name: "f", arguments: "{}" } }],
  });
  assert.deepEqual((sent.messages as unknown[])[2], { role: "tool", content: "42", tool_call_id: "t0" });
});

Deno.test("upstream HTTP errors become UpstreamErrors naming the provider, status and message", async () => {
  const { fetch } = fakeFetch(() =>
    Response.json({ error: { message: "rate limited, slow down" } }, { status: 429 })
  );
  const provider = new OpenAiCompatibleProvider({ id: "up", baseUrl: "http://up.test/v1", fetch });
  await assert.rejects(provider.completeChat({ model: "m", messages: [] }, signal), (e) => {
    assert.ok(e instanceof UpstreamError);
    assert.equal(e.failure, "http");
    assert.equal(e.httpStatus, 429);
    assert.equal(e.message, "model provider 'up' answered HTTP 429: rate limited, slow down");
    return true;
  });
});

Deno.test("network failures, bad JSON and mid-stream errors are classified", async () => {
  const down = new OpenAiCompatibleProvider({
    id: "up",
    baseUrl: "http://up.test/v1",
    fetch: () => Promise.reject(new TypeError("connection refused")),
  });
  await assert.rejects(
    down.completeChat({ model: "m", messages: [] }, signal),
    (e) =>
      e instanceof UpstreamError && e.failure === "network" &&
      /cannot reach model provider 'up'/.test(e.message),
  );
  const garbage = new OpenAiCompatibleProvider({
    id: "up",
    baseUrl: "http://up.test/v1",
    fetch: () => Promise.resolve(new Response("<html>")),
  });
  await assert.rejects(
    garbage.completeChat({ model: "m", messages: [] }, signal),
    (e) => e instanceof UpstreamError && e.failure === "protocol",
  );
  const midStream = new OpenAiCompatibleProvider({
    id: "up",
    baseUrl: "http://up.test/v1",
    fetch: () =>
      Promise.resolve(
        choppedSse(
          'data: {"choices":[{"delta":{"content":"a"}}]}\n\ndata: {"error":{"message":"overloaded"}}\n\n',
        ),
      ),
  });
  await assert.rejects(
    collectReply(midStream.streamChat({ model: "m", messages: [] }, signal)),
    (e) => e instanceof UpstreamError && /overloaded/.test(e.message),
  );
});

Deno.test("a provider timeout aborts the upstream request and reports a timeout", async () => {
  let upstreamSignal: AbortSignal | undefined;
  const provider = new OpenAiCompatibleProvider({
    id: "slow",
    baseUrl: "http://up.test/v1",
    timeoutMs: 30,
    fetch: (_input, init) => {
      upstreamSignal = init?.signal ?? undefined;
      return new Promise((_, reject) =>
        init?.signal?.addEventListener("abort", () => reject(init.signal!.reason))
      );
    },
  });
  await assert.rejects(
    provider.completeChat({ model: "m", messages: [] }, signal),
    (e) => e instanceof UpstreamError && e.failure === "timeout" && e.code === "AGENT_TIMEOUT",
  );
  assert.equal(upstreamSignal?.aborted, true);
});

Deno.test("the caller's abort passes through as an abort, not as a provider failure", async () => {
  const caller = new AbortController();
  const provider = new OpenAiCompatibleProvider({
    id: "up",
    baseUrl: "http://up.test/v1",
    fetch: (_input, init) =>
      new Promise((_, reject) => init?.signal?.addEventListener("abort", () => reject(init.signal!.reason))),
  });
  const pending = provider.completeChat({ model: "m", messages: [] }, caller.signal);
  caller.abort();
  await assert.rejects(pending, (e) => !(e instanceof UpstreamError));
});

Deno.test("listModels prefers configured models and otherwise asks the upstream", async () => {
  const configured = new OpenAiCompatibleProvider({
    id: "up",
    baseUrl: "http://up.test/v1",
    models: [{ id: "a" }],
    fetch: () => Promise.reject(new Error("must not be called")),
  });
  assert.deepEqual(await configured.listModels(signal), [{ id: "a" }]);
  const { fetch, calls } = fakeFetch(() => Response.json({ data: [{ id: "x" }, { id: "y" }] }));
  const asking = new OpenAiCompatibleProvider({ id: "up", baseUrl: "http://up.test/v1", fetch });
  assert.deepEqual(await asking.listModels(signal), [{ id: "x" }, { id: "y" }]);
  assert.equal(calls[0].url, "http://up.test/v1/models");
});
