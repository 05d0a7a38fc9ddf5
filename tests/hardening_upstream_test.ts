// Hostile and broken model providers (issue 12 item 7, issue 13 item 15): an SSE line without a newline,
// an answer that never ends, megabyte error bodies, streams that stop before their terminator or break
// off, and HTML where a stream was expected. Each is cut off at its limit or reported as an error, on the
// OpenAI-compatible and the Anthropic provider, and the gateway keeps answering meanwhile.
import assert from "node:assert/strict";
import { agentsModule } from "../lib/agents/mod.ts";
import { openAiHttpModule } from "../lib/http/openai/openai-module.ts";
import { OpenAiCompatibleProvider } from "../lib/providers/openai-compatible.ts";
import { UpstreamError } from "../lib/providers/upstream-error.ts";
import { createGateway, type Frame, type GatewayConfig } from "../mod.ts";
import { denoTransport } from "../deno.ts";
import { client, TOKEN } from "./_helpers.ts";
import { until } from "./_evidence_clients.ts";
import { startHostileUpstream } from "./_upstream.ts";

const MiB = 1024 * 1024;
const PROVIDERS = ["oa", "an"] as const;

async function hostileGateway() {
  const up = startHostileUpstream();
  const provider = (api: string, baseUrl: string, extra: Record<string, unknown> = {}) => ({
    baseUrl,
    apiKey: "k",
    api,
    // Bounds the old unbounded reads so a regression fails instead of hanging.
    timeoutSeconds: 10,
    models: [{ id: "m" }],
    ...extra,
  });
  const small = { maxResponseBytes: 256 * 1024 };
  const config: GatewayConfig = {
    gateway: {
      auth: { mode: "token", token: TOKEN },
      http: { endpoints: { chatCompletions: { enabled: true }, responses: { enabled: true } } },
    },
    models: {
      providers: {
        oa: provider("openai-completions", up.openai),
        an: provider("anthropic-messages", up.anthropic),
        "oa-small": provider("openai-completions", up.openai, small),
        "an-small": provider("anthropic-messages", up.anthropic, small),
        "oa-cut": provider("openai-completions", `${up.cut}/v1`),
        "an-cut": provider("anthropic-messages", up.cut),
      },
    },
    agents: {
      defaults: { model: { primary: "local/scripted-1" } },
      entries: { main: {}, "an-nodone": { model: "an/no-done" }, "oa-error": { model: "oa/long-error" } },
    },
  };
  const logs: string[] = [];
  const agents = agentsModule();
  const gateway = createGateway({
    config,
    transport: denoTransport(),
    port: 0,
    hostname: "127.0.0.1",
    modules: [agents, openAiHttpModule({ agents })],
    logSinks: [{ write: (record) => logs.push(JSON.stringify(record)) }],
  });
  const address = await gateway.start();
  return {
    gateway,
    agents,
    up,
    logs,
    base: `http://127.0.0.1:${address!.port}`,
    async [Symbol.asyncDispose]() {
      await gateway.stop();
      await up.close();
    },
  };
}

type Hostile = Awaited<ReturnType<typeof hostileGateway>>;

/** A `/v1` request served by `provider/model` (the `x-openclaw-model` override). */
function v1(
  h: Hostile,
  path: "chat/completions" | "responses",
  model: string,
  options: { stream?: boolean; user?: string } = {},
): Promise<Response> {
  const body = path === "responses"
    ? { model: "openclaw", input: "hi", stream: options.stream ?? false, user: options.user }
    : { model: "openclaw", messages: [{ role: "user", content: "hi" }], ...options };
  return fetch(`${h.base}/v1/${path}`, {
    method: "POST",
    headers: {
      authorization: `Bearer ${TOKEN}`,
      "content-type": "application/json",
      "x-openclaw-model": model,
    },
    body: JSON.stringify(body),
  });
}

/** What the tests read from chat-completion chunks and responses events. */
interface Sse {
  choices?: { delta?: { content?: string }; finish_reason?: string | null }[];
  error?: { message: string };
  type?: string;
  response?: { status?: string; error?: { message: string } };
  /** Set on the `[DONE]` terminator. */
  done?: true;
}

/** The `data:` payloads of an SSE body. */
function sseData(text: string): Sse[] {
  return text.split("\n").filter((l) => l.startsWith("data: ")).map((l) => {
    const data = l.slice(6);
    return data === "[DONE]" ? { done: true } : JSON.parse(data);
  });
}

const bytes = (text: string) => new TextEncoder().encode(text).byteLength;

async function assert502(response: Response, message: RegExp): Promise<string> {
  const body = await response.json();
  assert.equal(response.status, 502, JSON.stringify(body).slice(0, 300));
  assert.equal(body.error.type, "api_error");
  assert.match(body.error.message, message);
  return body.error.message;
}

Deno.test("an SSE line without a newline is refused at 1 MiB on both providers, the upstream is cut off, and /health answers meanwhile", async () => {
  await using h = await hostileGateway();
  let chatsRunning = true;
  let healthy = 0;
  const health = (async () => {
    while (chatsRunning) {
      const res = await fetch(`${h.base}/health`);
      await res.body?.cancel();
      assert.equal(res.status, 200);
      healthy++;
    }
  })();
  const rounds = 5;
  try {
    for (let round = 0; round < rounds; round++) {
      await Promise.all(PROVIDERS.map(async (p) => {
        const res = await v1(h, "chat/completions", `${p}/endless-line`, { stream: true });
        await assert502(
          res,
          new RegExp(`model provider '${p}' sent a stream line longer than 1 MiB without a line break`),
        );
      }));
    }
  } finally {
    chatsRunning = false;
    await health;
  }
  assert.ok(healthy > 0, "no /health answer while the endless lines were refused");
  // Every refused answer was cancelled at the upstream, soon after the 1 MiB the line cap allows.
  const calls = rounds * PROVIDERS.length;
  await until(() => h.up.cancelled.get("endless-line") === calls, "the upstream to see every cut");
  assert.ok(h.up.sent.get("endless-line")! < calls * 8 * MiB, "the gateway read on past the cap");
});

Deno.test("an answer past 16 MiB is cut off and fails with a 502 that names models.providers.<id>.maxResponseBytes", async () => {
  await using h = await hostileGateway();
  for (const p of PROVIDERS) {
    const message = await assert502(
      await v1(h, "chat/completions", `${p}/endless-body`),
      new RegExp(`model provider '${p}' sent more than 16 MiB; the answer was cut off`),
    );
    assert.match(message, new RegExp(`models\\.providers\\.${p}\\.maxResponseBytes`));
  }
  await until(() => h.up.cancelled.get("endless-body") === PROVIDERS.length, "the upstream cuts");
  assert.ok(h.up.sent.get("endless-body")! < PROVIDERS.length * 32 * MiB, "read on past the cap");
});

Deno.test("maxResponseBytes bounds a whole stream: text already sent stays, then an error chunk instead of a finish", async () => {
  await using h = await hostileGateway();
  for (const p of ["oa-small", "an-small"]) {
    const res = await v1(h, "chat/completions", `${p}/endless-body`, { stream: true });
    assert.equal(res.status, 200);
    const data = sseData(await res.text());
    assert.ok(data.some((d) => d.choices?.[0]?.delta?.content), `${p}: no text before the cut`);
    assert.ok(!data.some((d) => d.choices?.[0]?.finish_reason), `${p}: a cut stream must not finish`);
    const error = data.find((d) => d.error)?.error;
    assert.match(error?.message ?? "", new RegExp(`model provider '${p}' sent more than 256 KiB`));
    assert.equal(data.at(-1)?.done, true);

    const responses = await v1(h, "responses", `${p}/endless-body`, { stream: true });
    const events = sseData(await responses.text());
    assert.equal(events.find((e) => e.type === "response.failed")?.response?.status, "failed");
    assert.ok(!events.some((e) => e.type === "response.completed"), `${p}: a cut stream must not complete`);
  }
});

Deno.test("upstream error text reaches the caller and the log cut to 4 KiB", async () => {
  await using h = await hostileGateway();
  for (const p of PROVIDERS) {
    // 5 MB error body: only its head is read; the message stays short.
    const huge = await assert502(
      await v1(h, "chat/completions", `${p}/huge-error`),
      new RegExp(`model provider '${p}' answered HTTP 500`),
    );
    assert.ok(bytes(huge) <= 4096, `${p}: ${bytes(huge)} bytes of error text`);
    // A 50,000-char JSON message and a 50,000-char mid-stream error event: cut, and marked as cut.
    const long = await assert502(await v1(h, "chat/completions", `${p}/long-error`), /EEEE/);
    assert.ok(bytes(long) <= 4096 && long.endsWith("(truncated)"), `${p}: ${bytes(long)} bytes`);
    const streamed = await v1(h, "chat/completions", `${p}/stream-error`, { stream: true });
    const error = sseData(await streamed.text()).find((d) => d.error)?.error?.message ?? "";
    assert.match(error, /failed mid-stream: SSSS/);
    assert.ok(
      bytes(error) <= 4096 && error.endsWith("(truncated)"),
      `${p}: ${bytes(error)} bytes mid-stream`,
    );
  }
  // WS callers get the same bounded text in the chat error event.
  const c = await client(h.gateway);
  const sent = await c.request("chat.send", {
    sessionKey: "agent:oa-error:main",
    message: "hi",
    idempotencyKey: "e1",
  });
  assert.equal(sent.ok, true, JSON.stringify(sent.error));
  const event = await c.socket.waitFor((f: Frame) =>
    f.event === "chat" && (f.payload as { state?: string }).state === "error"
  );
  const errorMessage = (event.payload as { errorMessage: string }).errorMessage;
  assert.ok(bytes(errorMessage) <= 4096 && errorMessage.endsWith("(truncated)"), errorMessage.slice(0, 100));
  c.socket.close();
  const longest = Math.max(...h.logs.map(bytes));
  assert.ok(longest < 8192, `a log record of ${longest} bytes`);
  assert.ok(!h.logs.some((l) => l.includes("e".repeat(5000))), "the 5 MB error body reached the log");
  assert.ok(h.logs.some((l) => l.includes("EEEE")), "the upstream errors are logged at all");
});

Deno.test("a stream that ends without finish_reason/[DONE] or message_stop is an error; its partial text is kept as partial", async () => {
  await using h = await hostileGateway();
  const terminator = {
    oa: /ended the stream before finish_reason or \[DONE\]/,
    an: /ended the stream before message_stop/,
  };
  for (const p of PROVIDERS) {
    const user = `partial-${p}`;
    const res = await v1(h, "chat/completions", `${p}/no-done`, { stream: true, user });
    assert.equal(res.status, 200);
    const data = sseData(await res.text());
    assert.deepEqual(data.flatMap((d) => d.choices?.[0]?.delta?.content ?? []), ["Hel"]);
    assert.ok(!data.some((d) => d.choices?.[0]?.finish_reason), `${p}: finish_reason on a broken stream`);
    assert.match(data.find((d) => d.error)?.error?.message ?? "", terminator[p]);
    assert.equal(data.at(-1)?.done, true);
    // The transcript keeps the partial reply with the reference's error stopReason.
    const runtime = h.agents.runtime();
    const session = await runtime.session(`agent:main:openai-user:${user}`);
    assert.ok(session, `${p}: no session recorded`);
    const assistant = (await runtime.transcript(session)).filter((e) => e.role === "assistant");
    assert.deepEqual(assistant.map((e) => [e.content, e.stopReason]), [["Hel", "error"]]);

    const responses = await v1(h, "responses", `${p}/no-done`, { stream: true });
    const events = sseData(await responses.text());
    assert.match(
      events.find((e) => e.type === "response.failed")?.response?.error?.message ?? "",
      terminator[p],
    );
    assert.ok(!events.some((e) => e.type === "response.completed"));
  }
  // Over WS: a chat error event with stopReason "error" whose message is the partial text.
  const c = await client(h.gateway);
  const sent = await c.request("chat.send", {
    sessionKey: "agent:an-nodone:main",
    message: "hi",
    idempotencyKey: "p1",
  });
  assert.equal(sent.ok, true, JSON.stringify(sent.error));
  const event = await c.socket.waitFor((f: Frame) =>
    f.event === "chat" && ["final", "error"].includes((f.payload as { state: string }).state)
  );
  const payload = event.payload as {
    state: string;
    stopReason: string;
    errorMessage: string;
    message: { content: unknown };
  };
  assert.equal(payload.state, "error");
  assert.equal(payload.stopReason, "error");
  assert.match(payload.errorMessage, /model provider 'an' ended the stream before message_stop/);
  assert.deepEqual(payload.message.content, [{ type: "text", text: "Hel" }]);
  const runId = (sent.payload as { runId: string }).runId;
  const lifecycle = [...c.socket.skipped].find((f) =>
    f.event === "agent" && (f.payload as { data: { phase?: string } }).data.phase === "error"
  );
  assert.match((lifecycle?.payload as { data: { error: string } }).data.error, /before message_stop/);
  const waited = await c.request("agent.wait", { runId });
  assert.equal((waited.payload as { status: string }).status, "error");
  c.socket.close();
});

Deno.test("a stream that breaks off mid-body is an error that says so, not a cut-short success", async () => {
  await using h = await hostileGateway();
  for (const p of ["oa-cut", "an-cut"]) {
    const res = await v1(h, "chat/completions", `${p}/m`, { stream: true });
    assert.equal(res.status, 200);
    const data = sseData(await res.text());
    assert.deepEqual(data.flatMap((d) => d.choices?.[0]?.delta?.content ?? []), ["Hel"]);
    assert.ok(!data.some((d) => d.choices?.[0]?.finish_reason), `${p}: finish_reason on a broken stream`);
    assert.match(
      data.find((d) => d.error)?.error?.message ?? "",
      new RegExp(`model provider '${p}' broke off its answer`),
    );
    assert.equal(data.at(-1)?.done, true);
  }
});

Deno.test("a 200 text/html answer is a 502 on /v1/chat/completions and /v1/responses, streaming or not", async () => {
  await using h = await hostileGateway();
  for (const p of PROVIDERS) {
    await assert502(
      await v1(h, "chat/completions", `${p}/html`, { stream: true }),
      new RegExp(
        `model provider '${p}' answered a streaming request with text/html instead of an event stream: <html>`,
      ),
    );
    await assert502(
      await v1(h, "responses", `${p}/html`, { stream: true }),
      /text\/html instead of an event stream/,
    );
    await assert502(
      await v1(h, "chat/completions", `${p}/html`),
      new RegExp(`model provider '${p}' sent a body that is not JSON`),
    );
    await assert502(await v1(h, "responses", `${p}/html`), /sent a body that is not JSON: <html>/);
  }
  // And the same providers still serve a well-formed answer.
  for (const p of PROVIDERS) {
    const res = await v1(h, "chat/completions", `${p}/ok`, { stream: true });
    const data = sseData(await res.text());
    assert.equal(data.find((d) => d.choices?.[0]?.finish_reason)?.choices?.[0].finish_reason, "stop", p);
  }
});

Deno.test("an answer whose Content-Length is past maxResponseBytes is refused before a byte of it is read", async () => {
  let pulls = 0;
  const fetchStub = () =>
    Promise.resolve(
      new Response(
        new ReadableStream<Uint8Array>({ pull: (c) => void (pulls++, c.enqueue(new Uint8Array(1024))) }, {
          highWaterMark: 0,
        }),
        { headers: { "content-type": "application/json", "content-length": String(2 * MiB) } },
      ),
    );
  const provider = new OpenAiCompatibleProvider({
    id: "declared",
    baseUrl: "http://up.test/v1",
    maxResponseBytes: MiB,
    fetch: fetchStub,
  });
  await assert.rejects(
    provider.completeChat(
      { model: "m", messages: [{ role: "user", content: "hi" }] },
      new AbortController().signal,
    ),
    (error) => {
      assert.ok(error instanceof UpstreamError);
      assert.equal(error.failure, "too_large");
      assert.match(error.message, /model provider 'declared' sent more than 1 MiB; the answer was cut off/);
      return true;
    },
  );
  assert.equal(pulls, 0);
});

Deno.test("upstream error text is cut on a character boundary, within 4 KiB with the marker", () => {
  for (const char of ["e", "é", "€", "😀"]) {
    const message =
      new UpstreamError("p", "http", `model provider 'p' answered HTTP 500: ${char.repeat(5000)}`, 500)
        .message;
    assert.ok(bytes(message) <= 4096, `${char}: ${bytes(message)} bytes`);
    assert.ok(bytes(message) > 4000, `${char}: cut too short (${bytes(message)} bytes)`);
    assert.match(message, /^model provider 'p' answered HTTP 500: /);
    assert.ok(message.endsWith("(truncated)") && !message.includes("\uFFFD"), char);
    assert.equal([...message.slice(0, -" … (truncated)".length)].at(-1), char);
  }
  assert.equal(new UpstreamError("p", "http", "short").message, "short");
});
