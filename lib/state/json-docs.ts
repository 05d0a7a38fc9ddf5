/**
 * Small JSON documents addressed by a relative path (`credentials/telegram-pairing.json`): the channel
 * pairing store and the Telegram update offset live here. In-process by default; `fileJsonDocs(stateDir)`
 * keeps them under the state dir so the CLI and a restarted gateway see the same state.
 *
 * @module
 */

/** Where JSON documents are kept. */
export interface JsonDocs {
  /** The document at `path`, or `undefined` when there is none (or it no longer parses). */
  read(path: string): Promise<unknown>;
  /** Replaces the document at `path`; readers see the old or the new one, never half of one. */
  write(path: string, value: unknown): Promise<void>;
}

/** In-process documents (embedders and tests without a state dir). */
export class MemoryJsonDocs implements JsonDocs {
  readonly #docs = new Map<string, string>();

  read(path: string): Promise<unknown> {
    const text = this.#docs.get(path);
    return Promise.resolve(text === undefined ? undefined : JSON.parse(text));
  }

  write(path: string, value: unknown): Promise<void> {
    // Stored as text so a caller that keeps mutating its object cannot change what was written.
    this.#docs.set(path, JSON.stringify(value));
    return Promise.resolve();
  }
}

/** Refuses paths that could leave the documents' root (`..`, absolute, odd characters). */
export function checkDocPath(path: string): string {
  const segments = path.split("/");
  if (!segments.every((s) => /^[A-Za-z0-9_][A-Za-z0-9._-]*$/.test(s))) {
    throw new Error(`unsafe state document path '${path}'`);
  }
  return path;
}
