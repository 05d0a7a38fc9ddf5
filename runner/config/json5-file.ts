/**
 * Reads one JSON5 config file: size-capped, parse errors reported with line and column.
 *
 * @module
 */
import { Json5SyntaxError, parseJson5 as parseJson5Text } from "../../lib/config/json5.ts";
import { ConfigLoadError } from "../../lib/config/source.ts";

/** OpenClaw refuses config files (and includes) larger than this. */
export const MAX_CONFIG_FILE_BYTES = 2 * 1024 * 1024;

/** Parses JSON5 text, turning a syntax error into a {@link ConfigLoadError} that points at the spot. */
export function parseJson5(text: string, origin: string): unknown {
  try {
    return parseJson5Text(text);
  } catch (err) {
    if (!(err instanceof Json5SyntaxError)) throw err;
    const reason = err.message.replace(/ at \d+:\d+$/, "");
    throw new ConfigLoadError(
      `Invalid config at ${origin}: JSON5 syntax error at line ${err.lineNumber}, column ${err.columnNumber}: ${reason}`,
      origin,
    );
  }
}

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
