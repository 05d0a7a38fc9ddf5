// `--dev` model-server detection: Ollama first, then LM Studio, else nothing.
import assert from "node:assert/strict";
import { detectLocalModelServer } from "../lib/providers/local-servers.ts";
import type { FetchLike } from "../lib/providers/types.ts";

function answering(byUrl: Record<string, Response>): FetchLike {
  return (input) => {
    const response = byUrl[String(input)];
    return response ? Promise.resolve(response) : Promise.reject(new TypeError("connection refused"));
  };
}

Deno.test("prefers Ollama, falls back to LM Studio, and returns nothing when neither answers", async () => {
  const lmStudio = answering({
    "http://127.0.0.1:1234/v1/models": Response.json({ data: [{ id: "qwen2.5-7b" }] }),
  });
  assert.deepEqual(await detectLocalModelServer(lmStudio), {
    providerId: "lmstudio",
    config: {
      baseUrl: "http://127.0.0.1:1234/v1",
      api: "openai-completions",
      models: [{ id: "qwen2.5-7b" }],
    },
    defaultModel: "lmstudio/qwen2.5-7b",
  });
  const both = answering({
    "http://127.0.0.1:11434/v1/models": Response.json({ data: [{ id: "llama3.2" }] }),
    "http://127.0.0.1:1234/v1/models": Response.json({ data: [{ id: "qwen2.5-7b" }] }),
  });
  assert.equal((await detectLocalModelServer(both))?.defaultModel, "ollama/llama3.2");
  const emptyOllama = answering({ "http://127.0.0.1:11434/v1/models": Response.json({ data: [] }) });
  assert.equal(await detectLocalModelServer(emptyOllama), undefined);
  assert.equal(await detectLocalModelServer(answering({})), undefined);
});
