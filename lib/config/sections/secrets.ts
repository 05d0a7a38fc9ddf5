/**
 * The `secrets` section of `openclaw.json`: named providers SecretRefs resolve through, and the default
 * provider per source.
 *
 * @module
 */
import { z } from "zod";

/** A SecretRef source this gateway resolves (`store`, OpenClaw's SQLite store, is not supported). */
export type SecretSource = "env" | "file" | "exec";

/** One entry of `secrets.providers`. */
export interface SecretProviderConfig {
  source: SecretSource;
  /** env: exact names that may be read. */
  allowlist?: string[];
  /** file: the file to read. */
  path?: string;
  /** file: a JSON object addressed by pointer (default), or the whole file as one value. */
  mode?: "json" | "singleValue";
  /** exec: absolute path of the resolver binary (run directly, no shell). */
  command?: string;
  args?: string[];
  /** exec: variables passed through from the gateway's environment. */
  passEnv?: string[];
  env?: Record<string, string>;
  /** exec: whether stdout must be the JSON protocol (default true). */
  jsonOnly?: boolean;
  timeoutMs?: number;
  maxBytes?: number;
  maxOutputBytes?: number;
  [key: string]: unknown;
}

/** The whole `secrets` section. */
export interface SecretsSection {
  providers?: Record<string, SecretProviderConfig>;
  defaults?: { env?: string; file?: string; exec?: string; [key: string]: unknown };
  [key: string]: unknown;
}

const PROVIDER_NAME = /^[a-z][a-z0-9_-]{0,63}$/;

/** Validates the `secrets` section. */
export const SecretsSectionSchema: z.ZodType<SecretsSection> = z.looseObject({
  providers: z.record(
    z.string().regex(PROVIDER_NAME, "provider names match ^[a-z][a-z0-9_-]{0,63}$"),
    z.looseObject({
      source: z.enum(["env", "file", "exec"]),
      allowlist: z.array(z.string()).optional(),
      path: z.string().optional(),
      mode: z.enum(["json", "singleValue"]).optional(),
      command: z.string().optional(),
      args: z.array(z.string()).optional(),
      passEnv: z.array(z.string()).optional(),
      env: z.record(z.string(), z.string()).optional(),
      jsonOnly: z.boolean().optional(),
      timeoutMs: z.number().int().positive().optional(),
      maxBytes: z.number().int().positive().optional(),
      maxOutputBytes: z.number().int().positive().optional(),
    }),
  ).optional(),
  defaults: z.looseObject({
    env: z.string().optional(),
    file: z.string().optional(),
    exec: z.string().optional(),
  }).optional(),
});
