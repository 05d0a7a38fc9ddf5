/**
 * `$include` expansion: a string includes one file in place of the object holding it, an array deep-merges
 * several in order; sibling keys override what was included. Paths are relative to the including file
 * and must stay inside the config directory or an `OPENCLAW_INCLUDE_ROOTS` entry. Cycles and nesting
 * deeper than ten files are errors that show the chain.
 *
 * @module
 */
import { dirname, isAbsolute, relative, resolve } from "../cli/paths.ts";
import { ConfigLoadError, deepMerge, isPlainObject } from "../../lib/config/source.ts";

/** Include depth limit, as OpenClaw documents it. */
export const MAX_INCLUDE_DEPTH = 10;

/** How expansion reads files: returns the parsed content and the canonical (symlink-free) path. */
export interface IncludeReader {
  read(path: string): Promise<{ value: unknown; realPath: string }>;
}

/** What {@link expandIncludes} needs. */
export interface IncludeOptions {
  reader: IncludeReader;
  /** Directories includes may resolve into (the config's own directory comes first). */
  roots: string[];
}

/** Expands every `$include` in `value`, which was read from `file` (canonical path). */
export function expandIncludes(value: unknown, file: string, options: IncludeOptions): Promise<unknown> {
  return expand(value, file, [file], options);
}

async function expand(
  value: unknown,
  file: string,
  chain: string[],
  options: IncludeOptions,
): Promise<unknown> {
  if (Array.isArray(value)) return Promise.all(value.map((item) => expand(item, file, chain, options)));
  if (!isPlainObject(value)) return value;
  const entries = await Promise.all(
    Object.entries(value).filter(([key]) => key !== "$include").map(async ([key, child]) =>
      [key, await expand(child, file, chain, options)] as const
    ),
  );
  const siblings = Object.fromEntries(entries);
  if (!("$include" in value)) return siblings;
  const spec = value.$include;
  const targets = typeof spec === "string" ? [spec] : spec;
  if (!Array.isArray(targets) || targets.length === 0 || !targets.every((t) => typeof t === "string")) {
    throw new ConfigLoadError(`$include in ${file} must be a path or a list of paths`, file);
  }
  const included: unknown[] = [];
  for (const target of targets as string[]) included.push(await includeOne(target, file, chain, options));
  if (typeof spec === "string" && entries.length === 0) return included[0];
  return [...included, siblings].reduce<Record<string, unknown>>((acc, part, index) => {
    if (!isPlainObject(part)) {
      throw new ConfigLoadError(
        `$include "${targets[index]}" in ${file} must contain an object to merge with its siblings`,
        file,
      );
    }
    return deepMerge(acc, part);
  }, {});
}

async function includeOne(
  target: string,
  from: string,
  chain: string[],
  options: IncludeOptions,
): Promise<unknown> {
  if (target.includes("\0") || target.length >= 4096) {
    throw new ConfigLoadError(`$include path in ${from} is not a valid path`, from);
  }
  if (chain.length > MAX_INCLUDE_DEPTH) {
    throw new ConfigLoadError(
      `$include nesting deeper than ${MAX_INCLUDE_DEPTH}: ${chain.join(" -> ")}`,
      from,
    );
  }
  const path = resolve(dirname(from), target);
  assertInsideRoots(path, from, options.roots);
  let loaded: { value: unknown; realPath: string };
  try {
    loaded = await options.reader.read(path);
  } catch (err) {
    if (err instanceof ConfigLoadError) throw err;
    throw new ConfigLoadError(`$include "${target}" in ${from}: ${(err as Error).message}`, from);
  }
  assertInsideRoots(loaded.realPath, from, options.roots);
  if (chain.includes(loaded.realPath)) {
    throw new ConfigLoadError(`circular $include: ${[...chain, loaded.realPath].join(" -> ")}`, from);
  }
  return expand(loaded.value, loaded.realPath, [...chain, loaded.realPath], options);
}

function assertInsideRoots(path: string, from: string, roots: string[]): void {
  const inside = roots.some((root) => {
    const rel = relative(root, path);
    return rel !== "" && !rel.startsWith("..") && !isAbsolute(rel);
  });
  if (!inside) {
    throw new ConfigLoadError(
      `$include ${path} (from ${from}) is outside the config directory; add its directory to OPENCLAW_INCLUDE_ROOTS to allow it`,
      from,
    );
  }
}
