// The Anthropic Messages provider against a loopback server that speaks the Messages API, directly
// and through the gateway's OpenAI-compatible route.
import assert from "node:assert/strict";
import { agentsModule } from "../lib/agents/mod.ts";
import { openAiHttpModule } from "../lib/http/openai/openai-module.ts";
import { AnthropicProvider } from "../lib/providers/anthropic.ts";
import { collectReply } from "../lib/providers/accumulate.ts";
import { UpstreamError } from "../lib/providers/upstream-error.ts";
import { createGateway } from "../mod.ts";

interface Seen {
  headers: Headers;
  body: Record<string, unknown>;
}

function sse(events: Record<string, unknown>[]): string {
  return events.map((e) => `event: ${e.type}\ndata: ${JSON.stringify(e)}\n\n`).join("");
}

function startMessagesServer() {
  const seen: Seen[] = [];
  const server = Deno.serve({ hostname: "127.0.0.1", port: 0, onListen: () => {} }, async (request) => {
    const body = await request.json();
    seen.push({ headers: request.headers, body });
    if (request.headers.get("x-api-key") !== "anthropic-key") {
      return Response.json({
        type: "error",
        error: { type: "authentication_error", message: "invalid x-api-key" },
      }, {
        status: 401,
      });
    }
    if (!body.stream) {
      return Response.json({
        id: "msg_1",
        type: "message",
        role: "assistant",
        content: [{ type: "text", text: "Hello from Claude." }],
        stop_reason: "end_turn",
        usage: { input_tokens: 11, output_tokens: 4 },
      });
    }
    return new Response(
      sse([
        { type: "message_start", message: { id: "msg_2", usage: { input_tokens: 11, output_tokens: 1 } } },
        { type: "content_block_start", index: 0, content_block: { type: "text", text: "" } },
        { type: "ping" },
        { type: "content_block_delta", index: 0, delta: { type: "text_delta", text: "Let me" } },
        { type: "content_block_delta", index: 0, delta: { type: "text_delta", text: " check." } },
        { type: "content_block_stop", index: 0 },
        {
          type: "content_block_start",
          index: 1,
          content_block: { type: "tool_use", id: "toolu_1", name: "lookup", input: {} },
        },
        {
          type: "content_block_delta",
          index: 1,
          delta: { type: "input_json_delta", partial_json: '{"id":' },
        },
        {
          type: "content_block_delta",
          index: 1,
          delta: { type: "input_json_delta", partial_json: '"A-17"}' },
        },
        { type: "content_block_stop", index: 1 },
        { type: "message_delta", delta: { stop_reason: "tool_use" }, usage: { output_tokens: 9 } },
        { type: "message_stop" },
      ]),
      { headers: { "content-type": "text/event-stream" } },
    );
  });
  return { url: `http://127.0.0.1:${server.addr.port}`, seen, close: () => server.shutdown() };
}

const signal = new AbortController().signal;
const realFetch = (input: string | URL | Request, init?: RequestInit) => fetch(input, init);

Deno.test("streams text and tool use from the Messages API, and maps the request", async () => {
  const server = startMessagesServer();
  try {
    const provider = new AnthropicProvider({
      id: "claude",
      baseUrl: `${server.url}/v1`,
      apiKey: "anthropic-key",
      fetch: realFetch,
    });
    const reply = await collectReply(provider.streamChat({
      model: "claude-x",
      messages: [
        { role: "system", content: "Be brief." },
        { role: "user", content: "Where is order A-17?" },
        {
          role: "assistant",
          content: "",
          toolCalls: [{ id: "toolu_0", name: "lookup", arguments: '{"id":"A-16"}' }],
        },
        { role: "tool", content: "shipped", toolCallId: "toolu_0" },
      ],
      tools: [{ name: "lookup", parameters: { type: "object" } }],
      toolChoice: "required",
      stop: ["END"],
    }, signal));
    assert.deepEqual(reply, {
      text: "Let me check.",
      toolCalls: [{ id: "toolu_1", name: "lookup", arguments: '{"id":"A-17"}' }],
      finishReason: "tool_calls",
      usage: { inputTokens: 11, outputTokens: 9, totalTokens: 20 },
    });
    const { headers, body } = server.seen[0];
    assert.equal(headers.get("anthropic-version"), "2023-06-01");
    assert.equal(body.system, "Be brief.");
    assert.equal(body.max_tokens, 4096);
    assert.deepEqual(body.tool_choice, { type: "any" });
    assert.deepEqual(body.stop_sequences, ["END"]);
    assert.deepEqual(body.tools, [{ name: "lookup", input_schema: { type: "object" } }]);
    assert.deepEqual(body.messages, [
      { role: "user", content: [{ type: "text", text: "Where is order A-17?" }] },
      {
        role: "assistant",
        content: [{ type: "tool_use", id: "toolu_0", name: "lookup", input: { id: "A-16" } }],
      },
      { role: "user", content: [{ type: "tool_result", tool_use_id: "toolu_0", content: "shipped" }] },
    ]);
  } finally {
    await server.close();
  }
});

Deno.test("API errors name the provider and carry Anthropic's message; embeddings are refused clearly", async () => {
  const server = startMessagesServer();
  try {
    const provider = new AnthropicProvider({
      id: "claude",
      baseUrl: server.url,
      apiKey: "wrong",
      fetch: realFetch,
    });
    await assert.rejects(
      provider.completeChat({ model: "claude-x", messages: [{ role: "user", content: "hi" }] }, signal),
      (e) =>
        e instanceof UpstreamError && e.httpStatus === 401 &&
        e.message === "model provider 'claude' answered HTTP 401: invalid x-api-key",
    );
    await assert.rejects(
      provider.embed({ model: "x", input: ["a"] }, signal),
      (e) => e instanceof UpstreamError && e.failure === "unsupported",
    );
  } finally {
    await server.close();
  }
});

Deno.test("an agent on an anthropic-messages provider answers /v1/chat/completions", async () => {
  const server = startMessagesServer();
  const agents = agentsModule();
  const gateway = createGateway({
    config: {
      gateway: {
        auth: { mode: "token", token: "t0k3n-for-anthropic-test" },
        http: { endpoints: { responses: { enabled: true } } },
      },
      models: {
        providers: {
          claude: {
            baseUrl: server.url,
            api: "anthropic-messages",
            apiKey: { source: "env", id: "ANTHROPIC_API_KEY" },
          },
        },
      },
      agents: { defaults: { model: "claude/claude-x" } },
    },
    env: { ANTHROPIC_API_KEY: "anthropic-key" },
    modules: [agents, openAiHttpModule({ agents })],
  });
  await gateway.start();
  try {
    const response = await gateway.fetch(
      new Request("http://gateway.test/v1/chat/completions", {
        method: "POST",
        headers: { authorization: "Bearer t0k3n-for-anthropic-test" },
        body: JSON.stringify({ model: "openclaw", messages: [{ role: "user", content: "hi" }] }),
      }),
      { remoteAddress: "127.0.0.1" },
    );
    assert.equal(response.status, 200);
    const body = await response.json();
    assert.equal(body.choices[0].message.content, "Hello from Claude.");
    assert.deepEqual(body.usage, { prompt_tokens: 11, completion_tokens: 4, total_tokens: 15 });
    assert.equal(server.seen[0].body.model, "claude-x");
  } finally {
    await gateway.stop();
    await server.close();
  }
});
