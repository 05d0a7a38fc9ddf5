/**
 * Small JSON documents addressed by a relative path (`credentials/telegram-pairing.json`): the channel
 * pairing store and the Telegram update offset live here. In-process by default; `fileJsonDocs(stateDir)`
 * keeps them under the state dir so the CLI and a restarted gateway see the same state.
 *
 * @module
 */
import type { StoreFiles } from "./store-files.ts";

/**
 * What a {@link JsonDocs.update} change makes of a document: the `value` to store (left out: store
 * nothing) and the `result` handed back to the caller.
 */
export interface DocChange<T> {
  /** The new document; when the key is absent the document is left as it is. */
  value?: unknown;
  /** What `update` resolves with. */
  result: T;
}

/** Where JSON documents are kept. */
export interface JsonDocs {
  /** The document at `path`, or `undefined` when there is none (or it no longer parses). */
  read(path: string): Promise<unknown>;
  /** Replaces the document at `path`; readers see the old or the new one, never half of one. */
  write(path: string, value: unknown): Promise<void>;
  /**
   * Read-modify-write of the document at `path` that loses no other writer's change: when the document
   * changed between the read and the write, `change` runs again on what is there now (so it must have
   * no effect but its answer). Within one store every update of a path waits for the one before.
   */
  update<T>(path: string, change: (current: unknown) => DocChange<T> | Promise<DocChange<T>>): Promise<T>;
}

/** Runs each path's updates one after another (within one process). */
export class PathQueue {
  readonly #tails = new Map<string, Promise<unknown>>();

  /** Runs `work` after every earlier one for `path`. */
  run<T>(path: string, work: () => Promise<T>): Promise<T> {
    const next = (this.#tails.get(path) ?? Promise.resolve()).then(work, work);
    const settled = next.catch(() => {});
    this.#tails.set(path, settled);
    void settled.then(() => {
      if (this.#tails.get(path) === settled) this.#tails.delete(path);
    });
    return next;
  }
}

/** In-process documents (embedders and tests without a state dir). */
export class MemoryJsonDocs implements JsonDocs {
  readonly #docs = new Map<string, string>();
  readonly #queue = new PathQueue();

  read(path: string): Promise<unknown> {
    const text = this.#docs.get(path);
    return Promise.resolve(text === undefined ? undefined : JSON.parse(text));
  }

  write(path: string, value: unknown): Promise<void> {
    // Stored as text so a caller that keeps mutating its object cannot change what was written.
    this.#docs.set(path, JSON.stringify(value));
    return Promise.resolve();
  }

  update<T>(path: string, change: (current: unknown) => DocChange<T> | Promise<DocChange<T>>): Promise<T> {
    return this.#queue.run(path, async () => {
      const outcome = await change(await this.read(path));
      if ("value" in outcome) await this.write(path, outcome.value);
      return outcome.result;
    });
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

/**
 * Documents as files under `root` (the profile's state dir), through `files`. Writes go to a temp file
 * that is fsynced and renamed over the target with mode 0600 in 0700 folders, so the gateway and the CLI
 * can both write the same store without either reading a torn file.
 */
export function jsonDocsOnFiles(root: string, files: StoreFiles): JsonDocs {
  const queue = new PathQueue();
  const docs: JsonDocs = {
    async read(path) {
      const text = await files.readText(`${root}/${checkDocPath(path)}`);
      if (text === undefined) return undefined;
      try {
        return JSON.parse(text);
      } catch {
        // A hand-edited file that no longer parses counts as empty rather than stopping the channel.
        return undefined;
      }
    },
    async write(path, value) {
      const target = `${root}/${checkDocPath(path)}`;
      const temp = `${target}.${crypto.randomUUID().slice(0, 8)}.tmp`;
      await files.writeSynced(temp, `${JSON.stringify(value, null, 2)}\n`, "create-new");
      try {
        await files.rename(temp, target);
      } catch (error) {
        await files.remove(temp);
        throw error;
      }
    },
    // Atomic within this process; another process writing the same file (the CLI beside a gateway) can
    // still land between the read and the write.
    update: (path, change) =>
      queue.run(path, async () => {
        const outcome = await change(await docs.read(path));
        if ("value" in outcome) await docs.write(path, outcome.value);
        return outcome.result;
      }),
  };
  return docs;
}
