/**
 * The `models` section of `openclaw.json`: custom model providers and their catalogs, in OpenClaw's own
 * shape so one config file drives both gateways. Unknown keys are kept (loose objects).
 *
 * @module
 */
import { z } from "zod";

/** One model a provider offers (`models.providers.<id>.models[]`). */
export interface ProviderModelConfig {
  id: string;
  name?: string;
  reasoning?: boolean;
  input?: string[];
  contextWindow?: number;
  contextTokens?: number;
  maxTokens?: number;
  [key: string]: unknown;
}

/** One upstream (`models.providers.<id>`). `apiKey` is a string, `${ENV}` text or a SecretRef. */
export interface ModelProviderConfig {
  baseUrl?: string;
  apiKey?: unknown;
  api?: string;
  headers?: Record<string, string>;
  timeoutSeconds?: number;
  /** Largest answer (a whole stream included) accepted from this provider; 16 MiB by default. */
  maxResponseBytes?: number;
  maxTokens?: number;
  models?: ProviderModelConfig[];
  [key: string]: unknown;
}

/** The whole `models` section. */
export interface ModelsSection {
  mode?: "merge" | "replace";
  providers?: Record<string, ModelProviderConfig>;
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
