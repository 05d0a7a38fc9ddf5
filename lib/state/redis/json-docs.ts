/**
 * {@link JsonDocs} on Redis: one string key per document (`doc:<path>`), so every replica reads and
 * writes the same channel pairing store and Telegram update offset. A SET replaces a document whole, so a
 * reader sees the old or the new one. Documents have no TTL.
 *
 * @module
 */
import { checkDocPath, type DocChange, type JsonDocs, PathQueue } from "../json-docs.ts";
import { LuaScript, type RedisConnection } from "./connection.ts";

// KEYS: document. ARGV: 1 when it is expected to exist, its expected text, the new text. Writes only
// when the document is still what the writer read.
const COMPARE_AND_SET = new LuaScript(`
local current = redis.call('GET', KEYS[1])
if ARGV[2] == '1' then
  if current ~= ARGV[3] then return 0 end
elseif current then
  return 0
end
redis.call('SET', KEYS[1], ARGV[4])
return 1
`);

/** Attempts before an update gives up on a document other writers keep changing. */
const MAX_ATTEMPTS = 20;

/** Documents shared by every replica on one Redis. */
export class RedisJsonDocs implements JsonDocs {
  /** The scripts it runs, to load before first use. */
  static readonly scripts: readonly LuaScript[] = [COMPARE_AND_SET];
  readonly #queue = new PathQueue();

  /** Keeps the documents under `connection`'s prefix. */
  constructor(private readonly connection: RedisConnection) {}

  async read(path: string): Promise<unknown> {
    const text = await this.connection.client.get(this.#key(path));
    return text === null ? undefined : parseDoc(text);
  }

  async write(path: string, value: unknown): Promise<void> {
    await this.connection.client.set(this.#key(path), JSON.stringify(value));
  }

  update<T>(path: string, change: (current: unknown) => DocChange<T> | Promise<DocChange<T>>): Promise<T> {
    const key = this.#key(path);
    return this.#queue.run(path, async () => {
      for (let attempt = 0; attempt < MAX_ATTEMPTS; attempt++) {
        const text = await this.connection.client.get(key);
        const outcome = await change(text === null ? undefined : parseDoc(text));
        if (!("value" in outcome)) return outcome.result;
        const args = [text === null ? "0" : "1", text ?? "", JSON.stringify(outcome.value)];
        if (await this.connection.eval(COMPARE_AND_SET, [key], args) === 1) return outcome.result;
      }
      throw new Error(`document ${path} kept changing under ${MAX_ATTEMPTS} updates; retry`);
    });
  }

  #key(path: string): string {
    return this.connection.key(`doc:${checkDocPath(path)}`);
  }
}

/** A stored document; one that no longer parses counts as none (as with files) rather than stopping a channel. */
function parseDoc(text: string): unknown {
  try {
    return JSON.parse(text);
  } catch {
    return undefined;
  }
}
