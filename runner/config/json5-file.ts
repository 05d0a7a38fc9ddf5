/**
 * Reads one JSON5 config file: size-capped, parse errors reported with line and column.
 *
 * @module
 */
import { ConfigLoadError } from "../../lib/config/source.ts";

/** OpenClaw refuses config files (and includes) larger than this. */
export const MAX_CONFIG_FILE_BYTES = 2 * 1024 * 1024;

export { parseConfigText as parseJson5 } from "../../lib/config/json5.ts";

/** Reads a config file as text, refusing non-regular and oversized files; `undefined` when it is missing. */
export async function readConfigText(path: string): Promise<string | undefined> {
  let info: Deno.FileInfo;
  try {
    info = await Deno.stat(path);
  } catch (err) {
    if (err instanceof Deno.errors.NotFound) return undefined;
    throw new ConfigLoadError(`cannot read config ${path}: ${(err as Error).message}`, path);
  }
  if (!info.isFile) throw new ConfigLoadError(`config ${path} is not a regular file`, path);
  if (info.size > MAX_CONFIG_FILE_BYTES) {
    throw new ConfigLoadError(`config ${path} is larger than ${MAX_CONFIG_FILE_BYTES} bytes`, path);
  }
  return await Deno.readTextFile(path);
}
