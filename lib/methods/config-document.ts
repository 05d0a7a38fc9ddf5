/**
 * The authored config document as the `config.*` methods see it: read as it is, resolved through its
 * `ConfigSource`, redacted for clients, and written back under a `baseHash` compare-and-swap with the
 * redacted values restored.
 *
 * @module
 */
import * as z from "zod";
import { planReload, reloadModeOf } from "../config/reload-plan.ts";
import { parseConfigText } from "../config/json5.ts";
import { redactConfigValue, redactRawText, restoreRedacted } from "../config/redaction.ts";
import type { GatewayConfig } from "../config/schema.ts";
import {
  ConfigLoadError,
  type ConfigSnapshot,
  type ConfigSource,
  isPlainObject,
  objectConfigSource,
} from "../config/source.ts";
import { validateAuthoredConfig } from "../config/unknown-keys.ts";
import { ConfigWriteError, type ConfigWriter } from "../config/writer.ts";
import { GatewayError } from "../errors.ts";
import type { Logger } from "../log/logger.ts";
import { collectSecretValues, SecretRedactor } from "../log/secret-redactor.ts";

/** What the document needs from the gateway. */
export interface ConfigDocumentHost {
  /** The config in force. */
  config(): GatewayConfig;
  /** The gateway's env, for resolving `${VAR}`. */
  readonly env: Readonly<Record<string, string | undefined>>;
  /** The running config's secret values, hidden from every answer. */
  readonly secrets: SecretRedactor;
  /** Where writes are logged. */
  readonly logger: Logger;
}

/** Resolves the document as the gateway loads it, given the gateway's env. */
export type ConfigSourceFactory = (env: Readonly<Record<string, string | undefined>>) => ConfigSource;

/** A write's result. */
export const WriteResult = z.object({
  ok: z.literal(true),
  path: z.string(),
  hash: z.string(),
  config: z.unknown(),
  changedPaths: z.array(z.string()),
  reload: z.enum(["none", "hot", "restart"]),
});

/** `config.get`'s result (the keys clients rely on). */
export const SnapshotResult = z.object({
  path: z.string(),
  exists: z.boolean(),
  raw: z.string().nullable(),
  valid: z.boolean(),
  hash: z.string(),
  issues: z.array(z.object({ path: z.string(), message: z.string() })),
});

/** Builds the next document from the current one. */
export type Build = (current: DocumentForWrite) => Record<string, unknown>;

/** The authored document for a write; `unreadable` says why a broken one could not be parsed. */
export interface DocumentForWrite {
  exists: boolean;
  value: Record<string, unknown>;
  hash: string;
  unreadable?: string;
}

/** Throws `error` (an expression, for `??` and `.catch`). */
export function fail(error: GatewayError): never {
  throw error;
}

/** The authored document as the methods see it: read, resolved, redacted and written. */
export class ConfigDocument {
  /** Where the document lives (results and messages name it). */
  readonly location: string;
  #writer: ConfigWriter;
  #source: ConfigSourceFactory;
  #host: ConfigDocumentHost;

  /** A document over `writer`, resolved by `source` (default: its own text, as it is). */
  constructor(writer: ConfigWriter, source: ConfigSourceFactory | undefined, host: ConfigDocumentHost) {
    this.#writer = writer;
    this.location = writer.location;
    this.#source = source ?? (() => this.#ownText());
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
    // Loaded once: what it resolves to is both shown and a source of values to hide.
    const load = await this.#load();
    const byValue = this.#redactorFor(load);
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
      if ("error" in load) issues.push({ path: "(root)", message: (load.error as Error).message });
      else {
        resolved = load.loaded.raw;
        warnings = load.loaded.warnings.map((message) => ({ message }));
        const validation = validateAuthoredConfig(resolved);
        warnings.push(...validation.warnings.map((message) => ({ message })));
        if (validation.ok) config = validation.config;
        else issues.push(...validation.issues);
      }
    }
    // Revisions are hashes of what a document validates to (or, invalid, of what it says), so the
    // running config's hash (`appliedConfigHash`) equals the revision exactly when that document runs.
    const revision = await this.#writer.hash(canonicalJson(issues.length ? resolved : config));
    return {
      path: this.location,
      includedPaths: "loaded" in load ? load.loaded.includedPaths ?? [] : [],
      exists: text !== undefined,
      raw: text !== undefined && parsed !== null ? redactRawText(text, parsed, byValue) : null,
      parsed: redact(parsed),
      sourceConfig: redact(resolved),
      resolved: redact(resolved),
      valid: issues.length === 0,
      config: redact(config),
      runtimeConfig: redact(this.#host.config()),
      hash,
      configRevisionHash: revision,
      appliedConfigHash: await this.#writer.hash(canonicalJson(this.#host.config())),
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
    return this.#redactorFor(await this.#load());
  }

  /** The document as the gateway would load it now, or why it does not load. */
  #load(): Promise<DocumentLoad> {
    return this.#source(this.#host.env).load().then((loaded) => ({ loaded }), (error) => ({ error }));
  }

  #redactorFor(load: DocumentLoad): SecretRedactor {
    const values = new Set(this.#host.secrets.values());
    // Unreadable or invalid: the running config's values still apply.
    if ("loaded" in load) {
      for (const value of collectSecretValues(load.loaded.raw, this.#host.env)) values.add(value);
    }
    return new SecretRedactor(values);
  }
}

/** JSON with object keys sorted, so two equal configs compare equal whatever order they were written in. */
function canonicalJson(value: unknown): string {
  return JSON.stringify(
    value,
    (_key, inner) =>
      isPlainObject(inner)
        ? Object.fromEntries(Object.keys(inner).sort().map((key) => [key, inner[key]]))
        : inner,
  );
}

/** The document as loaded, or why it did not load. */
type DocumentLoad = { loaded: ConfigSnapshot } | { error: unknown };

/** Parses a client's JSON5 text into an object, or throws `INVALID_REQUEST`. */
export function parseObject(raw: string, method: string): Record<string, unknown> {
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
