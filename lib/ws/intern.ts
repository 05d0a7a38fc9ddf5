/**
 * Strings and scope lists that many sockets repeat, kept once: each socket's `connect` frame is parsed into
 * copies of its own, which 10,000 sockets would each keep for their lifetime.
 *
 * @module
 */

/** Longest string (and scope list, joined) kept once, and how many of each: clients cannot grow them far. */
const INTERN_MAX_LENGTH = 64;
const SCOPE_LIST_MAX_LENGTH = 256;
const INTERN_MAX_COUNT = 4_096;
const interned = new Map<string, string>();
const scopeLists = new Map<string, string[]>();

/** One frozen list (of interned strings) per distinct scope list: most sockets hold one of a few. */
export function internedScopes(scopes: readonly string[]): string[] {
  const key = scopes.join("\n");
  const known = scopeLists.get(key);
  if (known) return known;
  const list = Object.freeze(scopes.map(intern)) as string[];
  if (key.length <= SCOPE_LIST_MAX_LENGTH) remember(scopeLists, key, list);
  return list;
}

/**
 * One copy of a string that many sockets repeat (scopes, client ids and modes, a proxy's address), where
 * each would otherwise keep the copy its own `connect` frame was parsed into.
 */
export function intern(text: string): string {
  if (text.length > INTERN_MAX_LENGTH) return text;
  const known = interned.get(text);
  if (known !== undefined) return known;
  remember(interned, text, text);
  return text;
}

/**
 * Keeps `value` under `key`, starting the table afresh when it is full: one-off values (instance ids,
 * addresses a peer rotates through) must not fill it for good and stop the repeated ones from sharing.
 */
function remember<T>(table: Map<string, T>, key: string, value: T): void {
  if (table.size >= INTERN_MAX_COUNT) table.clear();
  table.set(key, value);
}
