/**
 * The `models` section of `openclaw.json`: custom model providers and their catalogs, in OpenClaw's own
 * shape so one config file drives both gateways. Unknown keys are kept (loose objects).
 *
 * @module
 */
import * as z from "zod";

/** One model a provider offers (`models.providers.<id>.models[]`). */
export interface ProviderModelConfig {
  /** Model id as the provider names it; referenced as `<provider>/<id>`. */
  id: string;
  /** Display name shown in model lists. */
  name?: string;
  /** Whether the model thinks before answering (a reasoning model). */
  reasoning?: boolean;
  /** Input kinds it accepts, such as `text` and `image`. */
  input?: string[];
  /** Most tokens of prompt plus reply the model accepts. */
  contextWindow?: number;
  /** OpenClaw's own context budget for the model, in tokens; read by OpenClaw, kept here unused. */
  contextTokens?: number;
  /** Most tokens the model generates in one reply. */
  maxTokens?: number;
  /** Keys OpenClaw knows that this gateway does not use; kept so a shared config loads. */
  [key: string]: unknown;
}

/** One upstream (`models.providers.<id>`). `apiKey` is a string, `${ENV}` text or a SecretRef. */
export interface ModelProviderConfig {
  /**
   * Base URL including the version segment, e.g. `http://127.0.0.1:11434/v1`; required for OpenAI-style APIs.
   */
  baseUrl?: string;
  /** API key: plain text, `${ENV}` text, or a SecretRef; none for servers that need no key. */
  apiKey?: unknown;
  /** Wire API: `openai-completions` (default), `openai-responses` or `anthropic-messages`. */
  api?: string;
  /** Extra headers sent on every request to this provider. */
  headers?: Record<string, string>;
  /** Abort a call to this provider after this many seconds; default 120. */
  timeoutSeconds?: number;
  /** Largest answer (a whole stream included) accepted from this provider; 16 MiB by default. */
  maxResponseBytes?: number;
  /** `max_tokens` sent when a request sets none (Anthropic requires one); default 4096. */
  maxTokens?: number;
  /** Models this provider serves, listed without asking the upstream. */
  models?: ProviderModelConfig[];
  /** Keys OpenClaw knows that this gateway does not use; kept so a shared config loads. */
  [key: string]: unknown;
}

/** The whole `models` section. */
export interface ModelsSection {
  /**
   * OpenClaw's choice of merging these providers with its built-in ones or replacing them; accepted, not used
   * here.
   */
  mode?: "merge" | "replace";
  /** Configured providers by id; the id is the prefix in `provider/model` references. */
  providers?: Record<string, ModelProviderConfig>;
  /** Keys OpenClaw knows that this gateway does not use; kept so a shared config loads. */
  [key: string]: unknown;
}

const ProviderModelSchema = z.looseObject({
  id: z.string().min(1),
  name: z.string().optional(),
  reasoning: z.boolean().optional(),
  input: z.array(z.string()).optional(),
  contextWindow: z.number().positive().optional(),
  contextTokens: z.number().positive().optional(),
  maxTokens: z.number().positive().optional(),
});

/** Validates one `models.providers.<id>` entry. */
export const ModelProviderConfigSchema: z.ZodType<ModelProviderConfig> = z.looseObject({
  baseUrl: z.string().optional(),
  apiKey: z.unknown().optional(),
  api: z.string().optional(),
  headers: z.record(z.string(), z.string()).optional(),
  timeoutSeconds: z.number().positive().optional(),
  /** Bytes one answer (a whole stream included) may have, default 16 MiB: an upstream cannot fill memory. */
  maxResponseBytes: z.number().int().positive().optional(),
  maxTokens: z.number().positive().optional(),
  models: z.array(ProviderModelSchema).optional(),
});

/** Validates the `models` section. */
export const ModelsSectionSchema: z.ZodType<ModelsSection> = z.looseObject({
  mode: z.enum(["merge", "replace"]).optional(),
  providers: z.record(z.string(), ModelProviderConfigSchema).optional(),
});
