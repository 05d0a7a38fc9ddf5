/**
 * Where a gateway's config comes from. A source produces the raw config (before validation); the
 * gateway or runner validates it with {@link loadConfig}. Sources are layered: an embedding app can pass
 * an object, a container can pass env variables, the CLI reads a JSON5 file and watches it.
 *
 * @module
 */
import type { ConfigIssue, GatewayConfig } from "./schema.ts";
import { UNRECOGNIZED, validateAuthoredConfig } from "./unknown-keys.ts";

/** One read of a source. */
export interface ConfigSnapshot {
  /** The config as authored (after `$include` and `${ENV}` expansion), not yet validated. */
  raw: Record<string, unknown>;
  /** Where it came from, for messages: a file path, `object`, `env`. */
  origin: string;
  /** Whether anything was there; a missing file means defaults. */
  exists: boolean;
  /** A digest of the authored text, for optimistic writes (`baseHash`); absent for sources without one. */
  hash?: string;
  /** Problems that did not stop the load, e.g. an unset `${VAR}`. */
  warnings: string[];
  /** The files `$include` brought in, for sources that read files. */
  includedPaths?: string[];
}

/** A place config is read from, optionally watched for changes. */
export interface ConfigSource {
  /** What the source is, for messages (`file`, `env`, `object`, ...). */
  readonly name: string;
  /** Reads the current config; throws {@link ConfigLoadError} when it cannot be read or parsed. */
  load(): Promise<ConfigSnapshot>;
  /** Calls `onChange` (already debounced) when the config may have changed; returns an unsubscribe. */
  watch?(onChange: () => void): () => void;
}

/** A config that could not be read, parsed or validated; the message names the origin and the path. */
export class ConfigLoadError extends Error {
  /** `origin` names where the config came from; `issues` lists each invalid path when validation failed. */
  constructor(message: string, readonly origin: string, readonly issues: ConfigIssue[] = []) {
    super(message);
    this.name = "ConfigLoadError";
  }
}

/** A snapshot that passed validation. */
export interface LoadedConfig {
  /** The read it came from. */
  snapshot: ConfigSnapshot;
  /** The validated config. */
  config: GatewayConfig;
}

/**
 * Loads and validates; a failure lists every issue as `path: message`.
 *
 * @example Code defaults under env overrides
 * ```ts
 * import { envConfigSource, layeredConfigSource, loadConfig, objectConfigSource } from "@openclaw-ts/gateway";
 *
 * const defaults = objectConfigSource({ gateway: { port: 18789, auth: { token: "s3cret" } } }, "defaults");
 * const env = envConfigSource({ OPENCLAW_GATEWAY_PORT: "19001" });
 * const { config, snapshot } = await loadConfig(layeredConfigSource([defaults, env]));
 * if (config.gateway?.port !== 19001 || snapshot.origin !== "defaults") throw new Error(JSON.stringify(config));
 * ```
 */
export async function loadConfig(source: ConfigSource): Promise<LoadedConfig> {
  const snapshot = await source.load();
  return { snapshot, config: validateSnapshot(snapshot) };
}

/**
 * Validates a snapshot, throwing a {@link ConfigLoadError} that names each offending dotted path. Unknown
 * keys are refused (a typo must not pass for a default); keys only the reference gateway knows become a
 * warning on the snapshot.
 */
export function validateSnapshot(snapshot: ConfigSnapshot): GatewayConfig {
  const result = validateAuthoredConfig(snapshot.raw);
  snapshot.warnings.push(...result.warnings);
  if (result.ok) return result.config;
  const list = result.issues.map((issue) => `${issue.path}: ${issue.message}`).join("; ");
  const repair = result.issues.some((issue) => issue.message.startsWith(UNRECOGNIZED))
    ? ". Run `openclaw doctor --fix` to remove unknown keys (it keeps a backup)"
    : "";
  throw new ConfigLoadError(
    `Invalid config at ${snapshot.origin}: ${list}${repair}`,
    snapshot.origin,
    result.issues,
  );
}

/**
 * A fixed config object, e.g. from an embedding app or CLI flags.
 *
 * @example Config that an app builds in code
 * ```ts
 * import { loadConfig, objectConfigSource } from "@openclaw-ts/gateway";
 *
 * const { config, snapshot } = await loadConfig(objectConfigSource({ gateway: { port: 19001 } }, "app"));
 * if (config.gateway?.port !== 19001 || snapshot.origin !== "app") throw new Error(JSON.stringify(snapshot));
 * ```
 */
export function objectConfigSource(value: Record<string, unknown>, name = "object"): ConfigSource {
  return {
    name,
    load: () => Promise.resolve({ raw: structuredClone(value), origin: name, exists: true, warnings: [] }),
  };
}

const LOG_LEVELS = ["silent", "fatal", "error", "warn", "info", "debug", "trace"];

/**
 * The config OpenClaw's env variables set directly: `OPENCLAW_GATEWAY_PORT` (gateway.port) and
 * `OPENCLAW_LOG_LEVEL` (logging.level and logging.consoleLevel). Auth env variables are not mapped:
 * the gateway reads them itself only when the config has no credential, so they rank below the file.
 *
 * @example The port from the environment
 * ```ts
 * import { envConfigSource, loadConfig } from "@openclaw-ts/gateway";
 *
 * const { config } = await loadConfig(envConfigSource({ OPENCLAW_GATEWAY_PORT: "19001" }));
 * if (config.gateway?.port !== 19001) throw new Error(JSON.stringify(config));
 * ```
 */
export function envConfigSource(env: Readonly<Record<string, string | undefined>>): ConfigSource {
  return {
    name: "env",
    // deno-lint-ignore require-await
    async load() {
      const raw: Record<string, unknown> = {};
      const warnings: string[] = [];
      const port = env.OPENCLAW_GATEWAY_PORT?.trim();
      if (port) {
        const value = Number(port);
        if (!Number.isInteger(value) || value < 0 || value > 65535) {
          throw new ConfigLoadError(
            `OPENCLAW_GATEWAY_PORT must be a port number (0-65535), got "${port}"`,
            "env",
          );
        }
        raw.gateway = { port: value };
      }
      const level = env.OPENCLAW_LOG_LEVEL?.trim().toLowerCase();
      if (level && LOG_LEVELS.includes(level)) raw.logging = { level, consoleLevel: level };
      else if (level) {
        warnings.push(`OPENCLAW_LOG_LEVEL="${level}" is not one of ${LOG_LEVELS.join("|")}; ignored`);
      }
      return { raw, origin: "env", exists: Object.keys(raw).length > 0, warnings };
    },
  };
}

/**
 * Sources merged in order, later ones winning key by key (objects merge, arrays and scalars replace).
 * The primary source (the first unless named) is the one whose origin, hash and existence describe the
 * result: the file a person edits, under flag or env overrides and over built-in defaults.
 *
 * @example A file's settings under a flag that overrides one of them
 * ```ts
 * import { layeredConfigSource, loadConfig, objectConfigSource } from "@openclaw-ts/gateway";
 *
 * const file = objectConfigSource({ gateway: { port: 18789, bind: "loopback" } }, "openclaw.json");
 * const flags = objectConfigSource({ gateway: { port: 19001 } }, "flags");
 * const { config, snapshot } = await loadConfig(layeredConfigSource([file, flags]));
 * if (config.gateway?.port !== 19001 || config.gateway.bind !== "loopback") throw new Error(JSON.stringify(config));
 * if (snapshot.origin !== "openclaw.json") throw new Error(snapshot.origin);
 * ```
 */
export function layeredConfigSource(
  sources: ConfigSource[],
  primary: ConfigSource = sources[0],
): ConfigSource {
  const primaryIndex = sources.indexOf(primary);
  if (primaryIndex === -1) {
    throw new Error("layeredConfigSource: the primary source must be one of the layers");
  }
  return {
    name: sources.map((s) => s.name).join("+"),
    async load() {
      const snapshots = await Promise.all(sources.map((s) => s.load()));
      const primary = snapshots[primaryIndex];
      return {
        raw: snapshots.reduce<Record<string, unknown>>((acc, s) => deepMerge(acc, s.raw), {}),
        origin: primary.origin,
        exists: primary.exists,
        hash: primary.hash,
        warnings: snapshots.flatMap((s) => s.warnings),
      };
    },
    watch(onChange) {
      const stops = sources.flatMap((s) => s.watch ? [s.watch(onChange)] : []);
      return () => stops.forEach((stop) => stop());
    },
  };
}

/** Whether `value` is a plain JSON object (not an array, not null). */
export function isPlainObject(value: unknown): value is Record<string, unknown> {
  return typeof value === "object" && value !== null && !Array.isArray(value);
}

/** Merges `over` onto `base` without mutating either: objects merge recursively, anything else replaces. */
export function deepMerge(
  base: Record<string, unknown>,
  over: Record<string, unknown>,
): Record<string, unknown> {
  const out: Record<string, unknown> = { ...base };
  for (const [key, value] of Object.entries(over)) {
    const current = out[key];
    out[key] = isPlainObject(current) && isPlainObject(value) ? deepMerge(current, value) : value;
  }
  return out;
}
