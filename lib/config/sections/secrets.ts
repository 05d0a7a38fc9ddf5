/**
 * The `secrets` section of `openclaw.json`: named providers SecretRefs resolve through, and the default
 * provider per source.
 *
 * @module
 */
import * as z from "zod";

/** A SecretRef source this gateway resolves (`store`, OpenClaw's SQLite store, is not supported). */
export type SecretSource = "env" | "file" | "exec";

/** One entry of `secrets.providers`. */
export interface SecretProviderConfig {
  /** Where the secret comes from: an environment variable, a file, or a resolver program. */
  source: SecretSource;
  /** env: exact names that may be read. */
  allowlist?: string[];
  /** file: the file to read. */
  path?: string;
  /** file: a JSON object addressed by pointer (default), or the whole file as one value. */
  mode?: "json" | "singleValue";
  /** exec: absolute path of the resolver binary (run directly, no shell). */
  command?: string;
  /** exec: arguments passed to `command`. */
  args?: string[];
  /** exec: variables passed through from the gateway's environment. */
  passEnv?: string[];
  /** exec: fixed variables set in the resolver's environment. */
  env?: Record<string, string>;
  /** exec: whether stdout must be the JSON protocol (default true). */
  jsonOnly?: boolean;
  /** exec: the resolver is killed after this many milliseconds; default 5000. */
  timeoutMs?: number;
  /** file: files larger than this many bytes are refused; default 1 MiB. */
  maxBytes?: number;
  /** exec: resolver output larger than this many bytes is refused; default 1 MiB. */
  maxOutputBytes?: number;
  /** Keys OpenClaw knows that this gateway does not use; kept so a shared config loads. */
  [key: string]: unknown;
}

/** The whole `secrets` section. */
export interface SecretsSection {
  /** Named secret providers that SecretRefs point at with `provider`. */
  providers?: Record<string, SecretProviderConfig>;
  /** Provider used for a SecretRef of each source that names no provider. */
  defaults?: { env?: string; file?: string; exec?: string; [key: string]: unknown };
  /** Keys OpenClaw knows that this gateway does not use; kept so a shared config loads. */
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
