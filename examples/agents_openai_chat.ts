// A gateway with the agents module and the OpenAI-compatible API, answering a chat completion from the
// built-in local model (no network, no key), in one process:
//
//   npx --yes deno@2.9.6 run -A examples/agents_openai_chat.ts
//
// Point `models.providers` at Ollama, vLLM or any OpenAI-compatible server and set
// `agents.defaults.model` to `<provider>/<model>` to use a real model instead.
import { agentsModule } from "../lib/agents/mod.ts";
import { openAiHttpModule } from "../lib/http/openai/openai-module.ts";
import { createGateway } from "../mod.ts";
import { denoTransport } from "../deno.ts";

const token = "example-token-0123456789";
const agents = agentsModule();
const gateway = createGateway({
  config: {
    gateway: { auth: { mode: "token", token }, http: { endpoints: { chatCompletions: { enabled: true } } } },
  },
  transport: denoTransport(),
  hostname: "127.0.0.1",
  port: 0,
  modules: [agents, openAiHttpModule({ agents })],
});
const address = await gateway.start();
const base = `http://127.0.0.1:${address!.port}/v1`;

const response = await fetch(`${base}/chat/completions`, {
  method: "POST",
  headers: { authorization: `Bearer ${token}`, "content-type": "application/json" },
  body: JSON.stringify({ model: "openclaw/default", messages: [{ role: "user", content: "Hello there" }] }),
});
const completion = await response.json();
console.log(`POST ${base}/chat/completions -> ${response.status}`);
console.log(completion.choices[0].message.content);

// The same kind of turn through the runtime directly, streamed: what WS `agent` runs use underneath.
const run = agents.runtime().startTurn({
  sessionKey: "agent:main:example",
  agentId: "main",
  messages: [{ role: "user", content: "stream this" }],
  origin: { kind: "agent" },
  onEvent: (event) => {
    if (event.type === "output" && event.event.type === "text") {
      console.log(`delta: ${JSON.stringify(event.event.text)}`);
    }
  },
});
console.log(`run ${run.runId}: ${(await run.done).status}`);
await gateway.stop();
