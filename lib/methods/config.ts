/**
 * The `config.*` methods over a {@link ConfigWriter} (the authored document) and a `ConfigSource` (what
 * that document resolves to): read it as it is (credentials redacted), and replace or merge-patch it
 * under a `baseHash` compare-and-swap. A refused write leaves the document untouched. Applying a written
 * change is not done here: whoever watches the document (the runner's file watcher, an embedder calling
 * `gateway.updateConfig`) applies it like any other edit, so a change is applied once.
 *
 * @example An embedder's config kept in memory
 * ```ts
 * import { createGateway } from "../gateway.ts";
 * import { memoryConfigWriter } from "../config/writer.ts";
 * import { configModule } from "./config.ts";
 *
 * const gateway = createGateway({ modules: [configModule({ writer: memoryConfigWriter("{}") })] });
 * await gateway.start();
 * const snapshot = await gateway.call("config.get", {}) as { hash: string };
 * await gateway.call("config.patch", { raw: '{ logging: { level: "debug" } }', baseHash: snapshot.hash });
 * await gateway.stop();
 * ```
 *
 * @module
 */
import { z } from "zod";
import { planReload, reloadModeOf } from "../config/reload-plan.ts";
import { applyMergePatch } from "../config/merge-patch.ts";
import { parseConfigText } from "../config/json5.ts";
import { isSecretKey, redactConfigValue, redactRawText, restoreRedacted } from "../config/redaction.ts";
import type { GatewayConfig } from "../config/schema.ts";
import { GatewayConfigSchema } from "../config/schema.ts";
import { ConfigLoadError, type ConfigSource, isPlainObject, objectConfigSource } from "../config/source.ts";
import { validateAuthoredConfig } from "../config/unknown-keys.ts";
import { ConfigWriteError, type ConfigWriter } from "../config/writer.ts";
import { GatewayError } from "../errors.ts";
import type { Logger } from "../log/logger.ts";
import { collectSecretValues, SecretRedactor } from "../log/secret-redactor.ts";
import { GATEWAY_VERSION } from "../version.ts";
import { type AnyMethod, type CallerIdentity, defineMethod } from "./descriptor.ts";

/** Options for {@link configModule}. */
export interface ConfigMethodsOptions {
  /** The authored document the methods read and write. */
  writer: ConfigWriter;
  /**
   * What the document resolves to as the gateway loads it (`$include`, `${VAR}`), given the gateway's
   * env. Defaults to the document's own text, taken as it is.
   */
  source?: (env: Readonly<Record<string, string | undefined>>) => ConfigSource;
  /** Admin writes allowed per method and caller in `windowMs` (OpenClaw: 30 per 60 s). */
  writeLimit?: { max: number; windowMs: number };
}

/** The parts of the gateway context the config methods use. */
export interface ConfigHost {
  /** The config in force. */
  config(): GatewayConfig;
  /** The gateway's env, for resolving `${VAR}`. */
  readonly env: Readonly<Record<string, string | undefined>>;
  /** The running config's secret values, hidden from every answer. */
  readonly secrets: SecretRedactor;
  /** Where writes are logged. */
  readonly logger: Logger;
  /** The gateway clock (write rate limit). */
  now(): number;
  /** Where the methods are registered. */
  registerMethod(method: AnyMethod): void;
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

const WriteResult = z.object({
  ok: z.literal(true),
  path: z.string(),
  hash: z.string(),
  config: z.unknown(),
  changedPaths: z.array(z.string()),
  reload: z.enum(["none", "hot", "restart"]),
});

const SnapshotResult = z.object({
  path: z.string(),
  exists: z.boolean(),
  raw: z.string().nullable(),
  valid: z.boolean(),
  hash: z.string(),
  issues: z.array(z.object({ path: z.string(), message: z.string() })),
});

/** `config.get`, `config.schema`, `config.set`, `config.patch` and `config.apply` (all admin). */
export function configModule(options: ConfigMethodsOptions): { name: string; setup(host: ConfigHost): void } {
  return {
    name: "config",
    setup(host) {
      for (const method of configMethods(options, host)) host.registerMethod(method);
    },
  };
}

/** The config methods, for a host that registers them itself. */
export function configMethods(options: ConfigMethodsOptions, host: ConfigHost): AnyMethod[] {
  const document = new ConfigDocument(options, host);
  const limit = writeRateLimiter(options.writeLimit ?? { max: 30, windowMs: 60_000 }, () => host.now());
  const writes = serial();
  let schema: Record<string, unknown> | undefined;
  const write = (method: string, caller: CallerIdentity, baseHash: string | undefined, build: Build) =>
    writes(async () => {
      limit(method, caller);
      return await document.write(method, baseHash, build);
    });
  const replace = (name: "config.set" | "config.apply", params: typeof SetParams) =>
    defineMethod({
      name,
      scope: "operator.admin",
      params,
      result: WriteResult,
      handler: ({ params, caller }) =>
        write(name, caller, params.baseHash, () => parseObject(params.raw, name)),
    });
  // protocol.md: every config.* method needs admin (the reference still answers config.get to read).
  return [
    defineMethod({
      name: "config.get",
      scope: "operator.admin",
      params: GetParams,
      result: SnapshotResult,
      handler: () => document.snapshot(),
    }),
    defineMethod({
      name: "config.schema",
      scope: "operator.admin",
      params: GetParams,
      handler: () => schema ??= schemaResponse(),
    }),
    replace("config.set", SetParams),
    replace("config.apply", ApplyParams),
    defineMethod({
      name: "config.patch",
      scope: "operator.admin",
      params: PatchParams,
      result: WriteResult,
      handler: ({ params, caller }) => {
        const patch = parseObject(params.raw, "config.patch");
        return write("config.patch", caller, params.baseHash, (current) => {
          if (current.unreadable) {
            fail(
              new GatewayError(
                "INVALID_REQUEST",
                `config.patch rejected: ${document.location} does not parse (${current.unreadable}); replace it with config.set`,
              ),
            );
          }
          const merged = applyMergePatch(current.value, patch, params.replacePaths);
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
      },
    }),
  ];
}

type Build = (current: DocumentForWrite) => Record<string, unknown>;

/** The authored document for a write; `unreadable` says why a broken one could not be parsed. */
interface DocumentForWrite {
  exists: boolean;
  value: Record<string, unknown>;
  hash: string;
  unreadable?: string;
}

function fail(error: GatewayError): never {
  throw error;
}

/** The authored document as the methods see it: read, resolved, redacted and written. */
class ConfigDocument {
  readonly location: string;
  #writer: ConfigWriter;
  #source: (env: Readonly<Record<string, string | undefined>>) => ConfigSource;
  #host: ConfigHost;

  constructor(options: ConfigMethodsOptions, host: ConfigHost) {
    this.#writer = options.writer;
    this.location = options.writer.location;
    this.#source = options.source ?? (() => this.#ownText());
    this.#host = host;
  }

  /** The document's own text as a source (no includes, no env): for writers without a loader. */
  #ownText(): ConfigSource {
    return {
      name: this.location,
      load: async () => {
        const text = await this.#writer.read();
        const value = text === undefined ? {} : parseConfigText(text, this.location);
        if (!isPlainObject(value)) {
          throw new ConfigLoadError(`${this.location} does not hold an object`, this.location);
        }
        return objectConfigSource(value, this.location).load();
      },
    };
  }

  /** Runs one write: compare-and-swap, restore redacted values, validate, write, log. */
  async write(
    method: string,
    baseHash: string | undefined,
    build: Build,
  ): Promise<z.input<typeof WriteResult>> {
    const current = await this.#readForWrite(method);
    this.#checkBaseHash(current, baseHash);
    const byValue = await this.#secrets();
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
    const base = {
      exists: current.exists,
      value: current.value,
      hash: current.exists ? current.hash : undefined,
    };
    const { hash } = await this.#writer.write(next, base)
      .catch((error) => fail(this.#refusal(error, baseHash)));
    const plan = planReload(current.value, next, reloadModeOf(this.#host.config()));
    // Whoever watches the document applies the write like any edit, and the gateway's config.changed
    // event (path, hash) goes out from there: publishing here too would tell clients twice.
    const path = this.location;
    this.#host.logger.info(`${method} wrote config`, { path, hash, changedPaths: plan.changedPaths });
    return {
      ok: true,
      path,
      hash,
      config: redactConfigValue(next, byValue).value,
      changedPaths: plan.changedPaths,
      reload: plan.action,
    };
  }

  async #readForWrite(method: string): Promise<DocumentForWrite> {
    let text: string | undefined;
    try {
      text = await this.#writer.read();
    } catch (error) {
      fail(new GatewayError("INVALID_REQUEST", `${method} rejected: ${(error as Error).message}`));
    }
    const hash = await this.#writer.hash(text ?? "");
    if (text === undefined) return { exists: false, value: {}, hash };
    try {
      const value = parseConfigText(text, this.location);
      if (isPlainObject(value)) return { exists: true, value, hash };
      return { exists: true, value: {}, hash, unreadable: "the file does not hold an object" };
    } catch (error) {
      return { exists: true, value: {}, hash, unreadable: (error as Error).message };
    }
  }

  #checkBaseHash(current: DocumentForWrite, baseHash: string | undefined): void {
    // A first write (nothing there yet) needs no hash; after that every write must name the revision it edits.
    if (!current.exists) return;
    if (baseHash === undefined) {
      fail(
        new GatewayError(
          "INVALID_REQUEST",
          "config base hash required; run config.get and pass its hash as baseHash",
          {
            details: { code: "CONFIG_BASE_HASH_REQUIRED", path: this.location, currentHash: current.hash },
          },
        ),
      );
    }
    if (baseHash !== current.hash) fail(this.#conflict(baseHash, current.hash));
  }

  #conflict(baseHash: string | undefined, currentHash: string | undefined): GatewayError {
    return new GatewayError(
      "INVALID_REQUEST",
      "config changed since it was read (baseHash does not match the file); run config.get and retry",
      { details: { code: "CONFIG_BASE_HASH_MISMATCH", path: this.location, baseHash, currentHash } },
    );
  }

  /** The writer re-checks at write time; a document edited in between is still a conflict, not a failure. */
  #refusal(error: unknown, baseHash: string | undefined): GatewayError {
    if (!(error instanceof ConfigWriteError)) throw error;
    // Disk full, read-only, permissions: the request was fine and may succeed once the operator fixes it.
    if (error.reason === "unavailable") {
      return new GatewayError("UNAVAILABLE", error.message, { retryable: true });
    }
    if (error.reason === "conflict") return this.#conflict(baseHash, undefined);
    return new GatewayError("INVALID_REQUEST", error.message);
  }

  /** `config.get`: the document as it is (valid or not), what it resolves to, and what the runtime serves. */
  async snapshot(): Promise<z.input<typeof SnapshotResult> & Record<string, unknown>> {
    const byValue = await this.#secrets();
    const redact = <T>(value: T) => redactConfigValue(value, byValue).value;
    const text = await this.#writer.read().catch(() => undefined);
    const hash = await this.#writer.hash(text ?? "");
    let parsed: unknown = text === undefined ? {} : null;
    const issues: { path: string; message: string }[] = [];
    if (text !== undefined) {
      try {
        parsed = parseConfigText(text, this.location);
      } catch (error) {
        issues.push({ path: "(root)", message: (error as Error).message });
      }
    }
    let resolved: Record<string, unknown> = {};
    let warnings: { message: string }[] = [];
    let config: Record<string, unknown> = {};
    if (parsed !== null) {
      try {
        const loaded = await this.#source(this.#host.env).load();
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
      path: this.location,
      exists: text !== undefined,
      raw: text !== undefined && parsed !== null ? redactRawText(text, parsed, byValue) : null,
      parsed: redact(parsed),
      sourceConfig: redact(resolved),
      resolved: redact(resolved),
      valid: issues.length === 0,
      config: redact(config),
      runtimeConfig: redact(this.#host.config()),
      hash,
      configRevisionHash: await this.#writer.hash(JSON.stringify(resolved)),
      issues,
      warnings,
      legacyIssues: [],
    };
  }

  /**
   * The secret values to hide from a config client: those of the running config and those the document
   * resolves to now (it may hold an edit not applied yet). A document that does not load adds none.
   */
  async #secrets(): Promise<SecretRedactor> {
    const values = new Set(this.#host.secrets.values());
    try {
      const loaded = await this.#source(this.#host.env).load();
      for (const value of collectSecretValues(loaded.raw, this.#host.env)) values.add(value);
    } catch {
      // Unreadable or invalid: the running config's values still apply.
    }
    return new SecretRedactor(values);
  }
}

function parseObject(raw: string, method: string): Record<string, unknown> {
  let value: unknown;
  try {
    value = parseConfigText(raw, `${method} raw`);
  } catch (error) {
    if (!(error instanceof ConfigLoadError)) throw error;
    fail(new GatewayError("INVALID_REQUEST", error.message));
  }
  if (!isPlainObject(value)) {
    fail(new GatewayError("INVALID_REQUEST", `${method} raw must be a JSON5 object`));
  }
  return value;
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
  now: () => number,
): (method: string, caller: CallerIdentity) => void {
  const hits = new Map<string, number[]>();
  return (method, caller) => {
    const key = `${method}|${caller.deviceId ?? caller.connId}|${caller.remoteAddress ?? ""}`;
    const t = now();
    const recent = (hits.get(key) ?? []).filter((at) => t - at < limit.windowMs);
    if (recent.length >= limit.max) {
      throw new GatewayError("UNAVAILABLE", `${method} rate limited; retry later`, {
        retryable: true,
        retryAfterMs: recent[0] + limit.windowMs - t,
        details: { method, limit: `${limit.max} per ${limit.windowMs / 1000}s` },
      });
    }
    recent.push(t);
    hits.set(key, recent);
    if (hits.size > 1024) {
      for (const [k, times] of hits) if (t - times.at(-1)! >= limit.windowMs) hits.delete(k);
    }
  };
}
