/**
 * A JSON5 parser. `openclaw.json` is JSON5, and every CLI invocation reads it: the npm `json5` package
 * costs ~40 ms of module loading under Deno, more than the rest of a `gateway health` call.
 *
 * Covers the JSON5 spec: comments, trailing commas, unquoted (ECMAScript identifier) keys, single-quoted
 * strings, line continuations, hex numbers, leading/trailing decimal points, explicit `+`, `Infinity`
 * and `NaN`. Errors carry the 1-based line and column.
 *
 * @module
 */
import { Json5Scanner, Json5SyntaxError } from "./json5-scanner.ts";
import { ConfigLoadError } from "./source.ts";

export { Json5SyntaxError } from "./json5-scanner.ts";

/** How deep arrays and objects may nest. */
const MAX_DEPTH = 512;

/** Parses JSON5 text into plain values (objects, arrays, strings, numbers, booleans, null). */
export function parseJson5(text: string): unknown {
  const scanner = new Json5Scanner(text);
  const result = value(scanner, 0);
  scanner.skipSpace();
  if (!scanner.done) scanner.unexpected();
  return result;
}

function value(scanner: Json5Scanner, depth: number): unknown {
  if (depth > MAX_DEPTH) scanner.fail("nesting too deep");
  scanner.skipSpace();
  const c = scanner.peek();
  if (c === "{") return object(scanner, depth);
  if (c === "[") {
    const array: unknown[] = [];
    sequence(scanner, "]", () => array.push(value(scanner, depth + 1)));
    return array;
  }
  if (c === '"' || c === "'") return scanner.string();
  if (scanner.take("true")) return true;
  if (scanner.take("false")) return false;
  if (scanner.take("null")) return null;
  if (c !== undefined && /[-+.0-9IN]/.test(c)) return scanner.number();
  return scanner.unexpected();
}

function object(scanner: Json5Scanner, depth: number): Record<string, unknown> {
  const object: Record<string, unknown> = {};
  sequence(scanner, "}", () => {
    const quote = scanner.peek();
    const key = quote === '"' || quote === "'" ? scanner.string() : scanner.identifierName();
    scanner.skipSpace();
    if (scanner.peek() !== ":") scanner.unexpected();
    scanner.pos++;
    // defineProperty keeps "__proto__" an ordinary key instead of changing the prototype.
    Object.defineProperty(object, key, {
      value: value(scanner, depth + 1),
      enumerable: true,
      writable: true,
      configurable: true,
    });
  });
  return object;
}

/** Reads `item`s separated by commas up to `close` (a trailing comma allowed), from the opener on. */
function sequence(scanner: Json5Scanner, close: string, item: () => void): void {
  scanner.pos++;
  scanner.skipSpace();
  if (scanner.take(close)) return;
  for (;;) {
    item();
    scanner.skipSpace();
    if (scanner.take(",")) {
      scanner.skipSpace();
      if (scanner.take(close)) return;
      continue;
    }
    if (scanner.take(close)) return;
    scanner.unexpected();
  }
}

/** Parses a config document's JSON5 text; a syntax error becomes a {@link ConfigLoadError} pointing at the spot. */
export function parseConfigText(text: string, origin: string): unknown {
  try {
    return parseJson5(text);
  } catch (err) {
    if (!(err instanceof Json5SyntaxError)) throw err;
    const reason = err.message.replace(/ at \d+:\d+$/, "");
    throw new ConfigLoadError(
      `Invalid config at ${origin}: JSON5 syntax error at line ${err.lineNumber}, column ${err.columnNumber}: ${reason}`,
      origin,
    );
  }
}
