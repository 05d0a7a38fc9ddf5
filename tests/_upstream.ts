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

function sse(chunks: unknown[]): string {
  return chunks.map((c) => `data: ${JSON.stringify(c)}\n\n`).join("") + "data: [DONE]\n\n";
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
    const chunk = (delta: unknown, finish: string | null = null) => ({
      id: "up-1",
      object: "chat.completion.chunk",
      choices: [{ index: 0, delta, finish_reason: finish }],
    });
    if (body.model === "slow") {
      request.signal.addEventListener("abort", markAborted);
      const stream = new ReadableStream<Uint8Array>({
        start(controller) {
          controller.enqueue(encoder.encode(`data: ${JSON.stringify(chunk({ content: "Hold" }))}\n\n`));
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
