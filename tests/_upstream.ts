// A real OpenAI-compatible HTTP server on loopback that records what it received, for proxy tests.

/** One request the fake upstream received. */
export interface Recorded {
  path: string;
  headers: Headers;
  body: Record<string, unknown>;
}

/** The fake upstream: `requests` in arrival order, `aborted` counts streams the client cut off. */
export interface FakeUpstream {
  url: string;
  requests: Recorded[];
  aborted: Promise<void>;
  close(): Promise<void>;
}

const encoder = new TextEncoder();
const WORDS = ["Hello", " from", " upstream."];

/** A streamed chat-completion chunk of response `id`: one choice with `delta`, and `finish` once it ends. */
export function completionChunk(id: string, delta: unknown, finish: string | null = null) {
  return { id, object: "chat.completion.chunk", choices: [{ index: 0, delta, finish_reason: finish }] };
}

/** `value` as one server-sent event. */
export const sseEvent = (value: unknown): string => `data: ${JSON.stringify(value)}\n\n`;

function sse(chunks: unknown[]): string {
  return chunks.map(sseEvent).join("") + "data: [DONE]\n\n";
}

/**
 * Models: `broken` answers 500; `slow` streams one chunk and then holds the stream open until the
 * client goes away; anything else answers "Hello from upstream.".
 */
export function startFakeUpstream(): FakeUpstream {
  const requests: Recorded[] = [];
  let markAborted!: () => void;
  const aborted = new Promise<void>((resolve) => markAborted = resolve);
  const server = Deno.serve({ hostname: "127.0.0.1", port: 0, onListen: () => {} }, async (request) => {
    const path = new URL(request.url).pathname;
    const body = request.method === "POST" ? await request.json() : {};
    requests.push({ path, headers: request.headers, body });
    if (body.model === "broken") {
      return Response.json({ error: { message: "model exploded", type: "server_error" } }, { status: 500 });
    }
    if (path === "/v1/embeddings") {
      const input = body.input as string[];
      return Response.json({
        object: "list",
        data: input.map((_, index) => ({ object: "embedding", index, embedding: [index, 0.5, -1] })),
        usage: { prompt_tokens: 3, total_tokens: 3 },
      });
    }
    if (path === "/v1/models") return Response.json({ object: "list", data: [{ id: "m1" }] });
    if (path !== "/v1/chat/completions") return new Response("no such route", { status: 404 });
    if (!body.stream) {
      return Response.json({
        id: "up-1",
        object: "chat.completion",
        choices: [{
          index: 0,
          message: { role: "assistant", content: WORDS.join("") },
          finish_reason: "stop",
        }],
        usage: { prompt_tokens: 5, completion_tokens: 3, total_tokens: 8 },
      });
    }
    const chunk = (delta: unknown, finish: string | null = null) => completionChunk("up-1", delta, finish);
    if (body.model === "slow") {
      request.signal.addEventListener("abort", markAborted);
      const stream = new ReadableStream<Uint8Array>({
        start(controller) {
          controller.enqueue(encoder.encode(sseEvent(chunk({ content: "Hold" }))));
        },
        cancel: markAborted,
      });
      return new Response(stream, { headers: { "content-type": "text/event-stream" } });
    }
    const chunks = [
      chunk({ role: "assistant" }),
      ...WORDS.map((w) => chunk({ content: w })),
      chunk({}, "stop"),
      {
        id: "up-1",
        object: "chat.completion.chunk",
        choices: [],
        usage: { prompt_tokens: 5, completion_tokens: 3, total_tokens: 8 },
      },
    ];
    return new Response(sse(chunks), { headers: { "content-type": "text/event-stream" } });
  });
  return {
    url: `http://127.0.0.1:${server.addr.port}/v1`,
    requests,
    aborted,
    close: () => server.shutdown(),
  };
}

/** What the hostile upstream saw: how many answers were cut off by the client and bytes it sent. */
export interface HostileUpstream {
  /** Base URL for `api: "openai-completions"` (ends in `/v1`). */
  openai: string;
  /** Base URL for `api: "anthropic-messages"`. */
  anthropic: string;
  /**
   * A raw TCP server (no `/v1`) that answers every request with a chunked 200 event stream holding "Hel"
   * and then closes the connection mid-body: a stream cut off, as a crashing upstream or proxy leaves it.
   */
  cut: string;
  /** Answers the client stopped reading (stream cancelled or request aborted), by model. */
  cancelled: Map<string, number>;
  /** Bytes handed to the socket, by model. */
  sent: Map<string, number>;
  close(): Promise<void>;
}

/** The error message of `long-error` and `stream-error`: well past the 4 KiB error cap. */
const LONG_MESSAGE_CHARS = 50_000;
/** The `huge-error` body: 5 MB, the size the attack used. */
const HUGE_ERROR_BYTES = 5_000_000;

/**
 * An OpenAI-compatible (`/v1/chat/completions`) and Anthropic (`/v1/messages`) upstream that misbehaves
 * as the request's `model` says:
 * - `endless-line`: a 200 event stream whose first line never ends;
 * - `endless-body`: a 200 answer that never ends (JSON for whole replies, well-formed events for streams);
 * - `huge-error`: HTTP 500 with a 5 MB body; `long-error`: HTTP 500 whose JSON message is 50,000 chars;
 * - `stream-error`: a stream whose error event carries a 50,000-char message;
 * - `no-done`: "Hel" and then a clean end without `finish_reason`/`[DONE]` (OpenAI) or `message_stop`;
 * - `html`: a 200 `text/html` page;
 * - anything else: "Hello" with every terminator in place.
 */
export function startHostileUpstream(): HostileUpstream {
  const cancelled = new Map<string, number>();
  const sent = new Map<string, number>();
  const count = (map: Map<string, number>, model: string, n = 1) => map.set(model, (map.get(model) ?? 0) + n);
  const server = Deno.serve({ hostname: "127.0.0.1", port: 0, onListen: () => {} }, async (request) => {
    const anthropic = new URL(request.url).pathname.endsWith("/messages");
    const body = await request.json();
    const model = String(body.model);
    const stream = body.stream === true;
    let cut = false;
    const onCancel = () => {
      if (cut) return;
      cut = true;
      count(cancelled, model);
    };
    request.signal.addEventListener("abort", onCancel);
    /** A body produced by `next` until it returns undefined; counts what it sends and whether it was cut. */
    const produce = (next: (i: number) => string | undefined, type: string, status = 200) => {
      let i = 0;
      return new Response(
        new ReadableStream<Uint8Array>({
          pull(controller) {
            const piece = next(i++);
            if (piece === undefined) return controller.close();
            const bytes = encoder.encode(piece);
            count(sent, model, bytes.byteLength);
            controller.enqueue(bytes);
          },
          cancel: onCancel,
        }, { highWaterMark: 0 }),
        { status, headers: { "content-type": type } },
      );
    };
    const events = (list: [string, unknown][]) =>
      list.map(([event, data]) => `${anthropic ? `event: ${event}\n` : ""}data: ${JSON.stringify(data)}\n\n`);
    const openaiDelta = (content: string) => ({
      choices: [{ index: 0, delta: { content }, finish_reason: null }],
    });
    const anthropicStart: [string, unknown][] = [
      ["message_start", { type: "message_start", message: { usage: { input_tokens: 3, output_tokens: 0 } } }],
      ["content_block_start", {
        type: "content_block_start",
        index: 0,
        content_block: { type: "text", text: "" },
      }],
    ];
    const textEvent = (text: string): [string, unknown] =>
      anthropic
        ? ["content_block_delta", {
          type: "content_block_delta",
          index: 0,
          delta: { type: "text_delta", text },
        }]
        : ["chunk", openaiDelta(text)];
    const hel = events(anthropic ? [...anthropicStart, textEvent("Hel")] : [textEvent("Hel")]);
    const filler = "a".repeat(64 * 1024);
    switch (model) {
      case "endless-line":
        return produce((i) => i === 0 ? `data: {"text":"` : filler, "text/event-stream");
      case "endless-body":
        if (stream) {
          const head = anthropic ? events(anthropicStart) : [];
          return produce(
            (i) => i < head.length ? head[i] : events([textEvent(filler)])[0],
            "text/event-stream",
          );
        }
        return produce((i) => i === 0 ? `{"choices":[{"message":{"content":"` : filler, "application/json");
      case "huge-error": {
        const message = "e".repeat(HUGE_ERROR_BYTES - 30);
        const text = JSON.stringify({ error: { message } });
        return produce(
          (i) =>
            i * filler.length < text.length
              ? text.slice(i * filler.length, (i + 1) * filler.length)
              : undefined,
          "application/json",
          500,
        );
      }
      case "long-error":
        return Response.json({ error: { message: "E".repeat(LONG_MESSAGE_CHARS) } }, { status: 500 });
      case "stream-error": {
        const error = { type: "error", error: { message: "S".repeat(LONG_MESSAGE_CHARS) } };
        return produce(
          (i) => [...hel, ...events([["error", anthropic ? error : { error: error.error }]])][i],
          "text/event-stream",
        );
      }
      case "no-done":
        return produce((i) => hel[i], "text/event-stream");
      case "html":
        return new Response("<html><body><h1>502 Bad Gateway</h1></body></html>", {
          headers: { "content-type": "text/html" },
        });
    }
    if (!stream) {
      return Response.json(
        anthropic
          ? {
            content: [{ type: "text", text: "Hello" }],
            stop_reason: "end_turn",
            usage: { input_tokens: 3, output_tokens: 1 },
          }
          : {
            choices: [{ index: 0, message: { role: "assistant", content: "Hello" }, finish_reason: "stop" }],
          },
      );
    }
    const done = anthropic
      ? events([
        textEvent("Hello"),
        ["message_delta", {
          type: "message_delta",
          delta: { stop_reason: "end_turn" },
          usage: { output_tokens: 1 },
        }],
        ["message_stop", { type: "message_stop" }],
      ])
      : [
        ...events([textEvent("Hello"), ["chunk", {
          choices: [{ index: 0, delta: {}, finish_reason: "stop" }],
        }]]),
        "data: [DONE]\n\n",
      ];
    return produce((i) => done[i], "text/event-stream");
  });
  const cutter = Deno.listen({ hostname: "127.0.0.1", port: 0 });
  (async () => {
    for await (const conn of cutter) cutOff(conn).catch(() => {}).finally(() => conn.close());
  })().catch(() => {});
  const base = `http://127.0.0.1:${server.addr.port}`;
  return {
    openai: `${base}/v1`,
    anthropic: base,
    cut: `http://127.0.0.1:${(cutter.addr as Deno.NetAddr).port}`,
    cancelled,
    sent,
    async close() {
      cutter.close();
      await server.shutdown();
    },
  };
}

/** Reads one whole request (so closing sends FIN, not RST), then sends half a chunked stream. */
async function cutOff(conn: Deno.Conn): Promise<void> {
  let request = "";
  const buffer = new Uint8Array(64 * 1024);
  const decoder = new TextDecoder();
  for (;;) {
    const n = await conn.read(buffer);
    if (n === null) return;
    request += decoder.decode(buffer.subarray(0, n));
    const head = request.indexOf("\r\n\r\n");
    const length = Number(/content-length: *(\d+)/i.exec(request)?.[1] ?? 0);
    if (head !== -1 && encoder.encode(request).byteLength >= head + 4 + length) break;
  }
  const event = request.startsWith("POST /v1/messages")
    ? `event: content_block_delta\ndata: ${
      JSON.stringify({ type: "content_block_delta", index: 0, delta: { type: "text_delta", text: "Hel" } })
    }\n\n`
    : `data: ${
      JSON.stringify({ choices: [{ index: 0, delta: { content: "Hel" }, finish_reason: null }] })
    }\n\n`;
  const chunk = encoder.encode(event);
  await conn.write(encoder.encode(
    "HTTP/1.1 200 OK\r\ncontent-type: text/event-stream\r\ntransfer-encoding: chunked\r\n\r\n" +
      `${chunk.byteLength.toString(16)}\r\n${event}\r\n`,
  ));
}

/** A fake upstream whose model calls one tool, then answers with what the tool returned. */
export interface ToolCallUpstream {
  /** Base URL for `api: "openai-completions"` (ends in `/v1`). */
  url: string;
  /** The request bodies it received, in order. */
  requests: Record<string, unknown>[];
  close(): Promise<void>;
}

/**
 * Streams a call of `tool` with `args` when the conversation does not end in a tool result yet, and
 * otherwise `Tool said: <the tool message's content>`, so a test reads the tool's output in the reply.
 */
export function startToolCallUpstream(tool: string, args: Record<string, unknown>): ToolCallUpstream {
  const requests: Record<string, unknown>[] = [];
  const chunk = (delta: unknown, finish: string | null = null) => completionChunk("up-tool", delta, finish);
  const server = Deno.serve({ hostname: "127.0.0.1", port: 0, onListen: () => {} }, async (request) => {
    const body = await request.json();
    requests.push(body);
    const messages = body.messages as { role: string; content: string }[];
    const last = messages.at(-1)!;
    const chunks = last.role === "tool"
      ? [chunk({ role: "assistant", content: `Tool said: ${last.content}` }), chunk({}, "stop")]
      : [
        chunk({
          role: "assistant",
          tool_calls: [{
            index: 0,
            id: "call-1",
            type: "function",
            function: { name: tool, arguments: JSON.stringify(args) },
          }],
        }),
        chunk({}, "tool_calls"),
      ];
    return new Response(sse(chunks), { headers: { "content-type": "text/event-stream" } });
  });
  return { url: `http://127.0.0.1:${server.addr.port}/v1`, requests, close: () => server.shutdown() };
}
