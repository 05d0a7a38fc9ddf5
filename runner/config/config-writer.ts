/**
 * Owned writes to `openclaw.json`: read the file as authored (no `$include` or `${ENV}` expansion, so
 * neither is flattened into it), change it, validate the result, and replace the file atomically with a
 * backup. Comments do not survive a rewrite; the `.bak` file keeps the previous text as written.
 *
 * @module
 */
import { validateAuthoredConfig } from "../../lib/config/unknown-keys.ts";
import { isPlainObject } from "../../lib/config/source.ts";
import { CliError, EXIT } from "../cli/errors.ts";
import { writeFileAtomic } from "./atomic-write.ts";
import { sha256Hex } from "../../lib/config/writer.ts";
import { parseJson5, readConfigText } from "./json5-file.ts";

/** The file as authored, with the hash writes are checked against. */
export interface AuthoredConfig {
  path: string;
  exists: boolean;
  value: Record<string, unknown>;
  /** SHA-256 of the text (absent when there is no file). */
  hash?: string;
}

/** Reads the authored config; a missing file is an empty object. */
export async function readAuthoredConfig(path: string): Promise<AuthoredConfig> {
  const text = await readConfigText(path);
  if (text === undefined) return { path, exists: false, value: {} };
  const value = parseJson5(text, path);
  if (!isPlainObject(value)) {
    throw new CliError(`Invalid config at ${path}: the file must hold an object`, EXIT.config);
  }
  return { path, exists: true, value, hash: await sha256Hex(text) };
}

function containsInclude(value: unknown): boolean {
  if (Array.isArray(value)) return value.some(containsInclude);
  if (!isPlainObject(value)) return false;
  return "$include" in value || Object.values(value).some(containsInclude);
}

/** Serialises a config the way the runner writes it: plain JSON (valid JSON5), two-space indent. */
export function renderConfig(value: Record<string, unknown>): string {
  return `${JSON.stringify(value, null, 2)}\n`;
}

/**
 * Validates `next` and writes it. Refused (nothing written) when the file uses `$include` (the write
 * would flatten it), when `baseHash` no longer matches the file, or when validation fails (the rejected
 * text is kept beside the file as `<path>.rejected.<ts>` for inspection).
 */
export async function writeAuthoredConfig(
  current: AuthoredConfig,
  next: Record<string, unknown>,
  options: { baseHash?: string } = {},
): Promise<{ hash: string }> {
  if (containsInclude(current.value)) {
    throw new CliError(
      `Config write rejected: ${current.path} uses $include; edit the included files by hand`,
      EXIT.failure,
    );
  }
  if (options.baseHash !== undefined && options.baseHash !== await currentHash(current.path)) {
    throw new CliError(
      "Config write rejected: the file changed since it was read (baseHash mismatch); read it again",
    );
  }
  const text = renderConfig(next);
  const result = validateAuthoredConfig(next);
  if (!result.ok) {
    await Deno.writeTextFile(`${current.path}.rejected.${Date.now()}`, text, { mode: 0o600 }).catch(() => {});
    const issues = result.issues.map((i) => `${i.path}: ${i.message}`).join("; ");
    throw new CliError(`Config write rejected: ${issues}`, EXIT.config);
  }
  await writeFileAtomic(current.path, text);
  return { hash: await sha256Hex(text) };
}

/**
 * A `doctor --fix` repair of the authored file: `edit` changes the parsed root in place (`{}` when there is
 * no file), and the result replaces the file atomically, the previous text kept as `.bak`. Not validated:
 * the repair is what makes the file valid.
 */
export async function repairConfigFile(
  path: string,
  edit: (root: Record<string, unknown>) => void,
): Promise<void> {
  const text = await readConfigText(path);
  const root = text === undefined ? {} : parseJson5(text, path);
  if (!isPlainObject(root)) throw new Error(`${path} does not hold an object`);
  edit(root);
  await writeFileAtomic(path, renderConfig(root));
}

async function currentHash(path: string): Promise<string | undefined> {
  const text = await readConfigText(path);
  return text === undefined ? undefined : await sha256Hex(text);
}

/** Reads the value at a dotted path (`gateway.auth.mode`, `list.0`). */
export function getPath(value: unknown, path: string): unknown {
  let node = value;
  for (const part of path.split(".")) {
    if (Array.isArray(node)) node = node[Number(part)];
    else if (isPlainObject(node)) node = node[part];
    else return undefined;
  }
  return node;
}

/** Returns a copy of `root` with `path` set to `value` (creating objects on the way), or removed when `undefined`. */
export function setPath(
  root: Record<string, unknown>,
  path: string,
  value: unknown,
): Record<string, unknown> {
  const copy = structuredClone(root);
  const parts = path.split(".");
  let node: Record<string, unknown> = copy;
  for (const part of parts.slice(0, -1)) {
    if (!isPlainObject(node[part])) {
      if (value === undefined) return copy;
      node[part] = {};
    }
    node = node[part] as Record<string, unknown>;
  }
  const last = parts.at(-1)!;
  if (value === undefined) delete node[last];
  else node[last] = value;
  return copy;
}
