// The built-in local model: deterministic replies, streaming, tool calls and hashed embeddings.
import assert from "node:assert/strict";
import { collectReply } from "../lib/providers/accumulate.ts";
import { hashEmbedding, LOCAL_EMBEDDING_DIMENSIONS, LocalProvider } from "../lib/providers/local.ts";
import type { ChatStreamEvent } from "../lib/providers/types.ts";

const signal = new AbortController().signal;
const provider = new LocalProvider();

Deno.test("the same conversation always gives the same reply, streamed word by word", async () => {
  const request = { model: "scripted-1", messages: [{ role: "user" as const, content: "plan my day" }] };
  const events: ChatStreamEvent[] = [];
  for await (const e of provider.streamChat(request, signal)) events.push(e);
  const texts = events.flatMap((e) => e.type === "text" ? [e.text] : []);
  assert.deepEqual(texts, ["Local", " model", " reply", " #1:", " you", " said", ' "plan', " my", ' day".']);
  assert.deepEqual(
    await provider.completeChat(request, signal),
    await provider.completeChat(request, signal),
  );
  const hello = await provider.completeChat({
    model: "scripted-1",
    messages: [{ role: "user", content: "Hello!" }],
  }, signal);
  assert.match(hello.text, /^Hello! I am the gateway's built-in local model/);
});

Deno.test("maxTokens truncates the reply and reports finish_reason length", async () => {
  const reply = await provider.completeChat({
    model: "m",
    messages: [{ role: "user", content: "x y z" }],
    maxTokens: 2,
  }, signal);
  assert.equal(reply.text, "Local model");
  assert.equal(reply.finishReason, "length");
});

Deno.test("a named tool is called, and its result is echoed on the follow-up turn", async () => {
  const tools = [{ name: "get_weather" }, { name: "lookup" }];
  const first = await provider.completeChat({
    model: "m",
    messages: [{ role: "user", content: "use get_weather for Oslo" }],
    tools,
  }, signal);
  assert.equal(first.finishReason, "tool_calls");
  assert.equal(first.toolCalls.length, 1);
  assert.equal(first.toolCalls[0].name, "get_weather");
  assert.deepEqual(JSON.parse(first.toolCalls[0].arguments), { query: "use get_weather for Oslo" });
  const none = await provider.completeChat({
    model: "m",
    messages: [{ role: "user", content: "get_weather" }],
    tools,
    toolChoice: "none",
  }, signal);
  assert.equal(none.toolCalls.length, 0);
  const pinned = await collectReply(
    provider.streamChat({
      model: "m",
      messages: [{ role: "user", content: "hi" }],
      tools,
      toolChoice: { name: "lookup" },
    }, signal),
  );
  assert.equal(pinned.toolCalls[0].name, "lookup");
  const followUp = await provider.completeChat({
    model: "m",
    messages: [
      { role: "user", content: "use get_weather for Oslo" },
      { role: "assistant", content: "", toolCalls: first.toolCalls },
      { role: "tool", content: '{"tempC":21}', toolCallId: first.toolCalls[0].id, name: "get_weather" },
    ],
    tools,
  }, signal);
  assert.equal(followUp.text, 'The tool get_weather returned: {"tempC":21}');
});

Deno.test("embeddings are deterministic unit vectors; related texts are closer than unrelated ones", async () => {
  const { vectors } = await provider.embed({
    model: "hash-embed-1",
    input: ["red apple pie", "apple pie red", "quantum tunnels"],
  }, signal);
  assert.equal(vectors[0].length, LOCAL_EMBEDDING_DIMENSIONS);
  assert.deepEqual(vectors[0], hashEmbedding("red apple pie"));
  assert.ok(Math.abs(Math.hypot(...vectors[0]) - 1) < 1e-9);
  const dot = (a: number[], b: number[]) => a.reduce((s, x, i) => s + x * b[i], 0);
  assert.ok(Math.abs(dot(vectors[0], vectors[1]) - 1) < 1e-9, "same words, same vector");
  assert.ok(dot(vectors[0], vectors[2]) < 0.5);
  assert.deepEqual(hashEmbedding(""), new Array(LOCAL_EMBEDDING_DIMENSIONS).fill(0));
});

Deno.test("an aborted signal stops the stream", async () => {
  const controller = new AbortController();
  controller.abort();
  await assert.rejects(
    collectReply(
      provider.streamChat({ model: "m", messages: [{ role: "user", content: "x" }] }, controller.signal),
    ),
  );
});
