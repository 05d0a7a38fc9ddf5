/**
 * The `config.*` WS methods of a CLI-run gateway: read the profile's config file as it is on disk
 * (credentials redacted), and replace or merge-patch it under a `baseHash` compare-and-swap. Writes are
 * validated and atomic (with backups) through the runner's config writer; a refused write leaves the
 * file untouched. Applying a written change is not done here: the runner's file watcher picks it up and
 * the supervisor hot-applies or restarts exactly as for a hand edit, so a change is applied once.
 *
 * @module
 */
import { z } from "zod";
import { planReload } from "../../lib/config/reload-plan.ts";
import { GatewayConfigSchema } from "../../lib/config/schema.ts";
import { validateAuthoredConfig } from "../../lib/config/unknown-keys.ts";
import { ConfigLoadError, isPlainObject } from "../../lib/config/source.ts";
import { GatewayError, invalidParams } from "../../lib/errors.ts";
import type { RateLimitStore } from "../../lib/state/rate-limit.ts";
import type { CallerIdentity, GatewayContext, GatewayModule } from "../../lib/types.ts";
import { GATEWAY_VERSION } from "../../lib/version.ts";
import { CliError } from "../cli/errors.ts";
import { FileWriteError } from "../config/atomic-write.ts";
import { type AuthoredConfig, writeAuthoredConfig } from "../config/config-writer.ts";
import { fileConfigSource, sha256Hex } from "../config/file-source.ts";
import { parseJson5, readConfigText } from "../config/json5-file.ts";
import { collectSecretValues, SecretRedactor } from "../../lib/log/secret-redactor.ts";
import { isSecretKey, redactConfigValue, redactRawText, restoreRedacted } from "./config-redaction.ts";
import { applyMergePatch } from "./merge-patch.ts";
import { reloadModeOf } from "./supervisor.ts";

/** Options for {@link configMethodsModule}. */
export interface ConfigMethodsOptions {
  /** The active profile's `openclaw.json`. */
  configPath: string;
  /** Admin writes allowed per method and caller in `windowMs` (OpenClaw: 30 per 60 s). */
  writeLimit?: { max: number; windowMs: number };
}

const GetParams = z.strictObject({});
const SetParams = z.strictObject({ raw: z.string().min(1), baseHash: z.string().min(1).optional() });
const RestartRequest = {
  sessionKey: z.string().optional(),
  deliveryContext: z.looseObject({}).optional(),
  note: z.string().optional(),
  restartDelayMs: z.number().int().min(0).optional(),
};
const ApplyParams = SetParams.extend(RestartRequest);
const PatchParams = ApplyParams.extend({ replacePaths: z.array(z.string().min(1)).max(256).optional() });

function parseParams<T>(schema: z.ZodType<T>, method: string, params: unknown): T {
  const result = schema.safeParse(params ?? {});
  if (result.success) return result.data;
  const issue = result.error.issues[0];
  const path = issue.path.map(String).join(".");
  return fail(invalidParams(method, path ? `${path}: ${issue.message}` : issue.message));
}

function fail(error: GatewayError): never {
  throw error;
}

/** Installs `config.get`, `config.schema`, `config.set`, `config.patch` and `config.apply`. */
export function configMethodsModule(options: ConfigMethodsOptions): GatewayModule {
  const path = options.configPath;
  return {
    name: "config",
    setup(context) {
      const limit = writeRateLimiter(
        options.writeLimit ?? { max: 30, windowMs: 60_000 },
        context.stores.rateLimits,
      );
      const writes = serial();
      let schema: Record<string, unknown> | undefined;

      // protocol.md: every config.* method needs admin (the reference still answers config.get to read).
      context.registerMethod("config.get", "operator.admin", async ({ params }) => {
        parseParams(GetParams, "config.get", params);
        return await snapshot(path, context);
      });

      context.registerMethod("config.schema", "operator.admin", ({ params }) => {
        parseParams(GetParams, "config.schema", params);
        schema ??= schemaResponse();
        return schema;
      });

      /** Runs one write: rate limit, compare-and-swap, restore redacted values, validate, write, announce. */
      const write = (method: string, caller: CallerIdentity, baseHash: string | undefined, build: Build) =>
        writes(async () => {
          await limit(method, caller);
          const current = await readForWrite(path, method);
          checkBaseHash(current, baseHash);
          const byValue = await fileSecrets(path, context);
          const restored = restoreRedacted(build(current), current.value, byValue);
          if (restored.problems.length) {
            const first = restored.problems[0];
            fail(
              new GatewayError("INVALID_REQUEST", `${method} rejected: ${first.path} ${first.message}`, {
                details: { issues: restored.problems },
              }),
            );
          }
          const next = restored.value;
          const validation = validateAuthoredConfig(next);
          if (!validation.ok) {
            const summary = validation.issues.slice(0, 3).map((i) => `${i.path}: ${i.message}`).join("; ");
            fail(
              new GatewayError("INVALID_REQUEST", `invalid config: ${summary}`, {
                details: { issues: validation.issues },
              }),
            );
          }
          const { hash } = await writeAuthoredConfig(current, next, {
            baseHash: current.exists ? current.hash : undefined,
          }).catch((error) => fail(writeRefusal(error, current, baseHash)));
          const plan = planReload(current.value, next, reloadModeOf(context.config()));
          // The file watcher applies the write like any edit, and the gateway's config.changed event
          // (path, hash) goes out from there: publishing here too would tell clients twice.
          context.logger.info(`${method} wrote config`, { path, hash, changedPaths: plan.changedPaths });
          return {
            ok: true,
            path,
            hash,
            config: redactConfigValue(next, byValue).value,
            changedPaths: plan.changedPaths,
            reload: plan.action,
          };
        });

      const replace = (method: "config.set" | "config.apply") => ({ params, caller }: MethodArgs) => {
        const { raw, baseHash } = parseParams(
          method === "config.set" ? SetParams : ApplyParams,
          method,
          params,
        );
        return write(method, caller, baseHash, () => parseObject(raw, method));
      };
      context.registerMethod("config.set", "operator.admin", replace("config.set"));
      context.registerMethod("config.apply", "operator.admin", replace("config.apply"));

      context.registerMethod("config.patch", "operator.admin", ({ params, caller }) => {
        const { raw, baseHash, replacePaths } = parseParams(PatchParams, "config.patch", params);
        const patch = parseObject(raw, "config.patch");
        return write("config.patch", caller, baseHash, (current) => {
          if (current.unreadable) {
            fail(
              new GatewayError(
                "INVALID_REQUEST",
                `config.patch rejected: ${path} does not parse (${current.unreadable}); replace it with config.set`,
              ),
            );
          }
          const merged = applyMergePatch(current.value, patch, replacePaths);
          if (!merged.ok) {
            fail(
              new GatewayError(
                "INVALID_REQUEST",
                `config.patch would drop array entries at ${
                  merged.shrunkArrays.join(", ")
                }; list them in replacePaths to confirm, or use config.apply`,
                { details: { paths: merged.shrunkArrays } },
              ),
            );
          }
          return merged.value;
        });
      });
    },
  };
}

type MethodArgs = { params: unknown; caller: CallerIdentity };
type Build = (current: FileForWrite) => Record<string, unknown>;

/** The authored file for a write; `unreadable` says why a broken file could not be parsed. */
interface FileForWrite extends AuthoredConfig {
  hash: string;
  unreadable?: string;
}

async function readForWrite(path: string, method: string): Promise<FileForWrite> {
  let text: string | undefined;
  try {
    text = await readConfigText(path);
  } catch (error) {
    fail(new GatewayError("INVALID_REQUEST", `${method} rejected: ${(error as Error).message}`));
  }
  const hash = await sha256Hex(text ?? "");
  if (text === undefined) return { path, exists: false, value: {}, hash };
  try {
    const value = parseJson5(text, path);
    if (isPlainObject(value)) return { path, exists: true, value, hash };
    return { path, exists: true, value: {}, hash, unreadable: "the file does not hold an object" };
  } catch (error) {
    return { path, exists: true, value: {}, hash, unreadable: (error as Error).message };
  }
}

function checkBaseHash(current: FileForWrite, baseHash: string | undefined): void {
  // A first write (no file yet) needs no hash; after that every write must name the revision it edits.
  if (!current.exists) return;
  if (baseHash === undefined) {
    fail(
      new GatewayError(
        "INVALID_REQUEST",
        "config base hash required; run config.get and pass its hash as baseHash",
        {
          details: { code: "CONFIG_BASE_HASH_REQUIRED", path: current.path, currentHash: current.hash },
        },
      ),
    );
  }
  if (baseHash !== current.hash) fail(conflict(current.path, baseHash, current.hash));
}

function conflict(path: string, baseHash: string | undefined, currentHash: string | undefined): GatewayError {
  return new GatewayError(
    "INVALID_REQUEST",
    "config changed since it was read (baseHash does not match the file); run config.get and retry",
    { details: { code: "CONFIG_BASE_HASH_MISMATCH", path, baseHash, currentHash } },
  );
}

/** The writer re-checks at write time; a file edited in between is still a conflict, not a failure. */
function writeRefusal(error: unknown, current: FileForWrite, baseHash: string | undefined): GatewayError {
  // Disk full, read-only, permissions: the request was fine and may succeed once the operator fixes it.
  if (error instanceof FileWriteError) {
    return new GatewayError("UNAVAILABLE", error.message, { retryable: true });
  }
  if (!(error instanceof CliError)) throw error;
  if (/baseHash mismatch/.test(error.message)) return conflict(current.path, baseHash, undefined);
  return new GatewayError("INVALID_REQUEST", error.message);
}

function parseObject(raw: string, method: string): Record<string, unknown> {
  let value: unknown;
  try {
    value = parseJson5(raw, `${method} raw`);
  } catch (error) {
    if (!(error instanceof ConfigLoadError)) throw error;
    fail(new GatewayError("INVALID_REQUEST", error.message));
  }
  if (!isPlainObject(value)) {
    fail(new GatewayError("INVALID_REQUEST", `${method} raw must be a JSON5 object`));
  }
  return value;
}

/** `config.get`: the file as it is (valid or not), what it resolves to, and what the runtime serves. */
async function snapshot(path: string, context: GatewayContext): Promise<Record<string, unknown>> {
  const byValue = await fileSecrets(path, context);
  const redact = <T>(value: T) => redactConfigValue(value, byValue).value;
  const text = await readConfigText(path).catch(() => undefined);
  const hash = await sha256Hex(text ?? "");
  let parsed: unknown = text === undefined ? {} : null;
  const issues: { path: string; message: string }[] = [];
  if (text !== undefined) {
    try {
      parsed = parseJson5(text, path);
    } catch (error) {
      issues.push({ path: "(root)", message: (error as Error).message });
    }
  }
  let resolved: Record<string, unknown> = {};
  let warnings: { message: string }[] = [];
  let config: Record<string, unknown> = {};
  if (parsed !== null) {
    try {
      const loaded = await fileConfigSource(path, { env: context.env }).load();
      resolved = loaded.raw;
      warnings = loaded.warnings.map((message) => ({ message }));
      const validation = validateAuthoredConfig(resolved);
      warnings.push(...validation.warnings.map((message) => ({ message })));
      if (validation.ok) config = validation.config;
      else issues.push(...validation.issues);
    } catch (error) {
      issues.push({ path: "(root)", message: (error as Error).message });
    }
  }
  return {
    path,
    exists: text !== undefined,
    raw: text !== undefined && parsed !== null ? redactRawText(text, parsed, byValue) : null,
    parsed: redact(parsed),
    sourceConfig: redact(resolved),
    resolved: redact(resolved),
    valid: issues.length === 0,
    config: redact(config),
    runtimeConfig: redact(context.config()),
    hash,
    configRevisionHash: await sha256Hex(JSON.stringify(resolved)),
    issues,
    warnings,
    legacyIssues: [],
  };
}

/**
 * The secret values to hide from a config client: those of the running config and those the file on
 * disk resolves to now (it may hold an edit not applied yet). A file that does not load adds none.
 */
async function fileSecrets(path: string, context: GatewayContext): Promise<SecretRedactor> {
  const values = new Set(context.secrets.values());
  try {
    const loaded = await fileConfigSource(path, { env: context.env }).load();
    for (const value of collectSecretValues(loaded.raw, context.env)) values.add(value);
  } catch {
    // Unreadable or invalid: the running config's values still apply.
  }
  return new SecretRedactor(values);
}

/** `config.schema`: the JSON Schema of the config this gateway validates, with credential fields marked. */
function schemaResponse(): Record<string, unknown> {
  const schema = z.toJSONSchema(GatewayConfigSchema, { unrepresentable: "any", io: "input" });
  const uiHints: Record<string, { sensitive: boolean }> = {};
  const walk = (node: unknown, path: string) => {
    if (!isPlainObject(node) || !isPlainObject(node.properties)) return;
    for (const [key, child] of Object.entries(node.properties)) {
      const childPath = path ? `${path}.${key}` : key;
      if (isSecretKey(key)) uiHints[childPath] = { sensitive: true };
      walk(child, childPath);
    }
  };
  walk(schema, "");
  return { schema, uiHints, version: GATEWAY_VERSION, generatedAt: new Date().toISOString() };
}

/** Runs tasks one at a time, so a compare-and-swap and its write are never interleaved with another. */
function serial(): <T>(task: () => Promise<T>) => Promise<T> {
  let tail: Promise<unknown> = Promise.resolve();
  return (task) => {
    const run = tail.then(task, task);
    tail = run.catch(() => {});
    return run;
  };
}

/** Sliding-window limit on admin writes, per method and caller (device or connection, and address). */
function writeRateLimiter(
  limit: { max: number; windowMs: number },
  store: RateLimitStore,
): (method: string, caller: CallerIdentity) => Promise<void> {
  return async (method, caller) => {
    const key = `config:${method}|${caller.deviceId ?? caller.connId}|${caller.remoteAddress ?? ""}`;
    const verdict = await store.hit(key, limit);
    if (!verdict.allowed) {
      throw new GatewayError("UNAVAILABLE", `${method} rate limited; retry later`, {
        retryable: true,
        retryAfterMs: verdict.retryAfterMs,
        details: { method, limit: `${limit.max} per ${limit.windowMs / 1000}s` },
      });
    }
  };
}
