/**
 * The `config.*` methods over a {@link ConfigWriter} (the authored document) and a `ConfigSource` (what
 * that document resolves to): read it as it is (credentials redacted), and replace or merge-patch it
 * under a `baseHash` compare-and-swap. A refused write leaves the document untouched. Applying a written
 * change is not done here: whoever watches the document (the runner's file watcher, an embedder calling
 * `gateway.updateConfig`) applies it like any other edit, so a change is applied once.
 *
 * @module
 */
import * as z from "zod";
import { applyMergePatch } from "../config/merge-patch.ts";
import { isSecretKey } from "../config/redaction.ts";
import { GatewayConfigSchema } from "../config/schema.ts";
import { isPlainObject } from "../config/source.ts";
import type { ConfigWriter } from "../config/writer.ts";
import { GatewayError } from "../errors.ts";
import type { RateLimitStore } from "../state/rate-limit.ts";
import { GATEWAY_VERSION } from "../version.ts";
import {
  type Build,
  ConfigDocument,
  type ConfigDocumentHost,
  type ConfigSourceFactory,
  parseObject,
  SnapshotResult,
  WriteResult,
} from "./config-document.ts";
import { CONFIG_METHODS } from "./config-scopes.ts";
import { type AnyMethod, type CallerIdentity, defineMethod } from "./descriptor.ts";

/** Options for {@link configModule}. */
export interface ConfigMethodsOptions {
  /** The authored document the methods read and write. */
  writer: ConfigWriter;
  /**
   * What the document resolves to as the gateway loads it (`$include`, `${VAR}`), given the gateway's
   * env. Defaults to the document's own text, taken as it is.
   */
  source?: ConfigSourceFactory;
  /** Admin writes allowed per method and caller in `windowMs` (OpenClaw: 30 per 60 s). */
  writeLimit?: { max: number; windowMs: number };
}

/** The parts of the gateway context the config methods use. */
export interface ConfigHost extends ConfigDocumentHost {
  /** Where the write rate limit counts (shared by replicas when the stores are). */
  readonly stores: { readonly rateLimits: RateLimitStore };
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

/**
 * `config.get`, `config.schema`, `config.set`, `config.patch` and `config.apply` (all admin).
 *
 * @example An embedder's config kept in memory, edited through `config.patch`
 * ```ts
 * import { configModule, createGateway, memoryConfigWriter } from "@openclaw-ts/gateway";
 *
 * const writer = memoryConfigWriter('{ gateway: { auth: { token: "s3cret" } } }');
 * const gateway = createGateway({
 *   config: { gateway: { auth: { token: "s3cret" } } },
 *   modules: [configModule({ writer })],
 * });
 * await gateway.start();
 *
 * const { hash } = await gateway.call("config.get", {}) as { hash: string };
 * await gateway.call("config.patch", { raw: '{ logging: { level: "debug" } }', baseHash: hash });
 * // The document changed; applying it is the watcher's job (here: the embedder's).
 * const written = JSON.parse((await writer.read())!);
 * if (written.logging.level !== "debug") throw new Error(JSON.stringify(written));
 * gateway.updateConfig(written);
 * await gateway.stop();
 * ```
 */
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
  const document = new ConfigDocument(options.writer, options.source, host);
  const limit = writeRateLimiter(options.writeLimit ?? { max: 30, windowMs: 60_000 }, host.stores.rateLimits);
  const writes = serial();
  let schema: Record<string, unknown> | undefined;
  const write = (method: string, caller: CallerIdentity, baseHash: string | undefined, build: Build) =>
    writes(async () => {
      await limit(method, caller);
      return await document.write(method, baseHash, build);
    });
  const replace = (name: "config.set" | "config.apply", params: typeof SetParams) =>
    defineMethod({
      name,
      scope: CONFIG_METHODS[name],
      params,
      result: WriteResult,
      handler: ({ params, caller }) =>
        write(name, caller, params.baseHash, () => parseObject(params.raw, name)),
    });
  // Scopes from CONFIG_METHODS (all admin; the reference still answers config.get to read).
  return [
    defineMethod({
      name: "config.get",
      scope: CONFIG_METHODS["config.get"],
      params: GetParams,
      result: SnapshotResult,
      handler: () => document.snapshot(),
    }),
    defineMethod({
      name: "config.schema",
      scope: CONFIG_METHODS["config.schema"],
      params: GetParams,
      handler: () => schema ??= schemaResponse(),
    }),
    replace("config.set", SetParams),
    replace("config.apply", ApplyParams),
    defineMethod({
      name: "config.patch",
      scope: CONFIG_METHODS["config.patch"],
      params: PatchParams,
      result: WriteResult,
      handler: ({ params, caller }) => {
        const patch = parseObject(params.raw, "config.patch");
        return write(
          "config.patch",
          caller,
          params.baseHash,
          mergeInto(document.location, patch, params.replacePaths),
        );
      },
    }),
  ];
}

/** `config.patch`'s change: the patch merged into the document, refusing silent array shrinks. */
function mergeInto(location: string, patch: Record<string, unknown>, replacePaths?: string[]): Build {
  return (current) => {
    if (current.unreadable) {
      throw new GatewayError(
        "INVALID_REQUEST",
        `config.patch rejected: ${location} does not parse (${current.unreadable}); replace it with config.set`,
      );
    }
    const merged = applyMergePatch(current.value, patch, replacePaths);
    if (merged.ok) return merged.value;
    throw new GatewayError(
      "INVALID_REQUEST",
      `config.patch would drop array entries at ${
        merged.shrunkArrays.join(", ")
      }; list them in replacePaths to confirm, or use config.apply`,
      { details: { paths: merged.shrunkArrays } },
    );
  };
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
