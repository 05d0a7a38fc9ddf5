/**
 * The config file source: `openclaw.json` (JSON5) with `$include` and `${ENV}` expansion, watched for
 * edits. Watching covers the file's directory, because editors save by writing a temp file and renaming
 * it over the original, which a watch on the file itself would lose.
 *
 * @module
 */
import { dirname, resolve } from "../cli/paths.ts";
import type { ConfigSnapshot, ConfigSource } from "../../lib/config/source.ts";
import { ConfigLoadError, isPlainObject } from "../../lib/config/source.ts";
import { sha256Hex } from "../../lib/config/writer.ts";
import { substituteEnv } from "./env-substitution.ts";
import { expandIncludes } from "./includes.ts";
import { parseJson5, readConfigText } from "./json5-file.ts";

/** Options for {@link fileConfigSource}. */
export interface FileSourceOptions {
  env: Readonly<Record<string, string | undefined>>;
  /** Quiet time after the last file event before `onChange` fires. */
  debounceMs?: number;
}

/** The default debounce: long enough to coalesce an editor's write-rename churn. */
export const DEFAULT_WATCH_DEBOUNCE_MS = 300;

/** A config file read on every `load()` and watched by `watch()`. */
export interface FileConfigSource extends ConfigSource {
  readonly path: string;
}

/** Builds the source for the config file at `path`. */
export function fileConfigSource(path: string, options: FileSourceOptions): FileConfigSource {
  const configPath = resolve(path);
  let watched = new Set<string>([configPath]);
  return {
    name: "file",
    path: configPath,
    async load(): Promise<ConfigSnapshot> {
      const text = await readConfigText(configPath);
      if (text === undefined) return { raw: {}, origin: configPath, exists: false, warnings: [] };
      const parsed = parseJson5(text, configPath);
      if (!isPlainObject(parsed)) {
        throw new ConfigLoadError(
          `Invalid config at ${configPath}: the file must hold an object`,
          configPath,
        );
      }
      const included = new Set<string>([configPath]);
      const expanded = await expandIncludes(parsed, configPath, {
        roots: [dirname(configPath), ...includeRoots(options.env)],
        reader: {
          async read(file) {
            const realPath = await Deno.realPath(file);
            const body = await readConfigText(realPath);
            if (body === undefined) throw new Error("file not found");
            included.add(realPath);
            return { value: parseJson5(body, realPath), realPath };
          },
        },
      });
      watched = included;
      const { value, missing } = substituteEnv(expanded, options.env);
      return {
        raw: value as Record<string, unknown>,
        origin: configPath,
        exists: true,
        hash: await sha256Hex(text),
        includedPaths: [...included].filter((file) => file !== configPath),
        warnings: missing.map((m) => `\${${m.name}} at ${m.path} is not set; the value is left unresolved`),
      };
    },
    watch(onChange) {
      return watchPaths(() => watched, options.debounceMs ?? DEFAULT_WATCH_DEBOUNCE_MS, onChange);
    },
  };
}

function includeRoots(env: Readonly<Record<string, string | undefined>>): string[] {
  const list = env.OPENCLAW_INCLUDE_ROOTS;
  if (!list) return [];
  return list.split(Deno.build.os === "windows" ? ";" : ":").filter(Boolean).map((p) => resolve(p));
}

function watchPaths(files: () => Set<string>, debounceMs: number, onChange: () => void): () => void {
  const dirs = new Set([...files()].map((f) => dirname(f)));
  const watchers: Deno.FsWatcher[] = [];
  let timer: ReturnType<typeof setTimeout> | undefined;
  for (const dir of dirs) {
    try {
      watchers.push(Deno.watchFs(dir, { recursive: false }));
    } catch {
      // A missing directory has nothing to watch yet; the config is created by `setup` before a restart.
    }
  }
  for (const watcher of watchers) {
    (async () => {
      for await (const event of watcher) {
        const current = files();
        if (!event.paths.some((p) => current.has(p))) continue;
        clearTimeout(timer);
        timer = setTimeout(onChange, debounceMs);
      }
    })().catch(() => {});
  }
  return () => {
    clearTimeout(timer);
    for (const watcher of watchers) watcher.close();
  };
}
