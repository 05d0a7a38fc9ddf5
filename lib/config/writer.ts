/**
 * The writer seam under the `config.*` methods: the authored config document, read as text and replaced
 * atomically under a hash check. The runner supplies the file (`openclaw.json`, with backups); an
 * embedder can keep the document anywhere, or in memory with {@link memoryConfigWriter}.
 *
 * @example
 * ```ts
 * import { memoryConfigWriter } from "./writer.ts";
 *
 * const doc = memoryConfigWriter('{ gateway: { port: 18789 } }');
 * const text = await doc.read();
 * const { hash } = await doc.write({ gateway: { port: 18790 } }, { exists: true, hash: await doc.hash(text!) });
 * if (hash !== await doc.hash((await doc.read())!)) throw new Error("not written");
 * ```
 *
 * @module
 */

/** Where a config document stands before a write: the revision the writer must still find. */
export interface ConfigRevision {
  /** Whether the document existed when it was read. */
  exists: boolean;
  /** The hash of the text that was read; absent when there was none. */
  hash?: string;
  /** The document as read (parsed), for writers that refuse some shapes (e.g. `$include`). */
  value?: Record<string, unknown>;
}

/** Reads and atomically replaces the authored config document. */
export interface ConfigWriter {
  /** Where the document lives, for messages and results (a file path). */
  readonly location: string;
  /** The authored text, or `undefined` when there is none yet; throws a `ConfigLoadError` when unreadable. */
  read(): Promise<string | undefined>;
  /** The digest clients pass back as `baseHash`. */
  hash(text: string): Promise<string>;
  /**
   * Replaces the document with `value` in one step, unless it moved on from `base` since it was read;
   * returns the new text's hash. Throws a {@link ConfigWriteError} when it refuses.
   */
  write(value: Record<string, unknown>, base: ConfigRevision): Promise<{ hash: string }>;
}

/** Why a writer refused: the document changed, the value is not writable there, or storage failed. */
export type ConfigWriteRefusal = "conflict" | "rejected" | "unavailable";

/** A write the {@link ConfigWriter} refused; nothing was written. */
export class ConfigWriteError extends Error {
  /** Creates the error; `reason` decides the wire code (`unavailable` is retryable). */
  constructor(readonly reason: ConfigWriteRefusal, message: string) {
    super(message);
    this.name = "ConfigWriteError";
  }
}

/** Hex SHA-256 of a text, the `hash`/`baseHash` of config writes. */
export async function sha256Hex(text: string): Promise<string> {
  const digest = await crypto.subtle.digest("SHA-256", new TextEncoder().encode(text));
  return Array.from(new Uint8Array(digest), (b) => b.toString(16).padStart(2, "0")).join("");
}

/** A config document kept in memory (tests, embedders without a file), written as two-space JSON. */
export function memoryConfigWriter(initial?: string, location = "memory"): ConfigWriter {
  let text = initial;
  return {
    location,
    read: () => Promise.resolve(text),
    hash: sha256Hex,
    async write(value, base) {
      const current = text === undefined ? undefined : await sha256Hex(text);
      if (current !== base.hash) {
        throw new ConfigWriteError("conflict", `${location} changed since it was read`);
      }
      text = `${JSON.stringify(value, null, 2)}\n`;
      return { hash: await sha256Hex(text) };
    },
  };
}
