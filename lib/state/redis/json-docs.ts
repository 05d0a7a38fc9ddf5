/**
 * {@link JsonDocs} on Redis: one string key per document (`doc:<path>`), so every replica reads and
 * writes the same channel pairing store and Telegram update offset. A SET replaces a document whole, so a
 * reader sees the old or the new one. Documents have no TTL.
 *
 * @module
 */
import { checkDocPath, type JsonDocs } from "../json-docs.ts";
import type { RedisConnection } from "./connection.ts";

/** Documents shared by every replica on one Redis. */
export class RedisJsonDocs implements JsonDocs {
  /** Keeps the documents under `connection`'s prefix. */
  constructor(private readonly connection: RedisConnection) {}

  async read(path: string): Promise<unknown> {
    const text = await this.connection.client.get(this.#key(path));
    if (text === null) return undefined;
    try {
      return JSON.parse(text);
    } catch {
      // As with files: a document that no longer parses counts as none rather than stopping the channel.
      return undefined;
    }
  }

  async write(path: string, value: unknown): Promise<void> {
    await this.connection.client.set(this.#key(path), JSON.stringify(value));
  }

  #key(path: string): string {
    return this.connection.key(`doc:${checkDocPath(path)}`);
  }
}
