/**
 * Finds a model server already running on this machine, for `--dev`: Ollama (port 11434) or LM Studio
 * (port 1234), both OpenAI-compatible. The runner merges the result into `models.providers` and makes
 * it the default model; when neither answers, the built-in local model serves.
 *
 * @module
 */
import type { ModelProviderConfig } from "../config/sections/models.ts";
import type { FetchLike } from "./types.ts";

/** A local model server that answered. */
export interface DetectedModelServer {
  /** Which kind of server answered, used as the provider id. */
  providerId: "ollama" | "lmstudio";
  /** A provider config entry that reaches it. */
  config: ModelProviderConfig;
  /** `provider/model` of the first model it lists. */
  defaultModel: string;
}

/** Where to look, in order of preference. */
export const LOCAL_MODEL_SERVERS: readonly { providerId: "ollama" | "lmstudio"; baseUrl: string }[] = [
  { providerId: "ollama", baseUrl: "http://127.0.0.1:11434/v1" },
  { providerId: "lmstudio", baseUrl: "http://127.0.0.1:1234/v1" },
];

/** A probe waits this long per server; a dev start should not hang on a closed port. */
export const PROBE_TIMEOUT_MS = 500;

/**
 * The first local server that lists at least one model, or undefined.
 *
 * @example Ask with a `fetch` of your own (here one that answers as Ollama would)
 * ```ts
 * import { detectLocalModelServer } from "@openclaw-ts/gateway";
 *
 * const fetch = (url: string | URL | Request) =>
 *   Promise.resolve(String(url).startsWith("http://127.0.0.1:11434/")
 *     ? Response.json({ data: [{ id: "llama3.2" }] })
 *     : new Response(null, { status: 404 }));
 * const found = await detectLocalModelServer(fetch);
 * if (found?.providerId !== "ollama") throw new Error(JSON.stringify(found));
 * ```
 */
export async function detectLocalModelServer(
  fetchImpl: FetchLike,
  servers: readonly { providerId: "ollama" | "lmstudio"; baseUrl: string }[] = LOCAL_MODEL_SERVERS,
): Promise<DetectedModelServer | undefined> {
  for (const server of servers) {
    try {
      const response = await fetchImpl(`${server.baseUrl}/models`, {
        signal: AbortSignal.timeout(PROBE_TIMEOUT_MS),
      });
      if (!response.ok) {
        await response.body?.cancel();
        continue;
      }
      const body = await response.json() as { data?: { id?: unknown }[] };
      const ids = (body.data ?? []).flatMap((m) => typeof m.id === "string" ? [m.id] : []);
      if (!ids.length) continue;
      return {
        providerId: server.providerId,
        config: { baseUrl: server.baseUrl, api: "openai-completions", models: ids.map((id) => ({ id })) },
        defaultModel: `${server.providerId}/${ids[0]}`,
      };
    } catch {
      // Not running, or not answering in time: try the next one.
    }
  }
  return undefined;
}
