// A loopback OpenAI-compatible upstream for long load runs: answers chat completions (whole or streamed)
// at once and keeps nothing per request, so the bench process itself stays flat however long it runs
// (tests/_upstream.ts records every request, which a 30-minute soak cannot afford).

const WHOLE = JSON.stringify({
  id: "up-1",
  object: "chat.completion",
  choices: [{
    index: 0,
    message: { role: "assistant", content: "Hello from upstream." },
    finish_reason: "stop",
  }],
  usage: { prompt_tokens: 5, completion_tokens: 3, total_tokens: 8 },
});
const chunk = (delta: unknown, finish: string | null = null) =>
  `data: ${
    JSON.stringify({
      id: "up-1",
      object: "chat.completion.chunk",
      choices: [{ index: 0, delta, finish_reason: finish }],
    })
  }\n\n`;
const STREAM = [
  chunk({ role: "assistant" }),
  ...["Hello", " from", " upstream."].map((content) => chunk({ content })),
  chunk({}, "stop"),
  "data: [DONE]\n\n",
].join("");

/** A started load upstream. */
export interface LoadUpstream {
  /** Base URL for a provider's `baseUrl` (ends in `/v1`). */
  url: string;
  close(): Promise<void>;
}

/** Starts the upstream on a free loopback port. */
export function startLoadUpstream(): LoadUpstream {
  const server = Deno.serve({ hostname: "127.0.0.1", port: 0, onListen() {} }, async (request) => {
    const text = await request.text();
    if (text.includes('"stream":true')) {
      return new Response(STREAM, { headers: { "content-type": "text/event-stream" } });
    }
    return new Response(WHOLE, { headers: { "content-type": "application/json" } });
  });
  return { url: `http://127.0.0.1:${server.addr.port}/v1`, close: () => server.shutdown() };
}
