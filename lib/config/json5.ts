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
import { ConfigLoadError } from "./source.ts";

/** A syntax error at a position in the source. */
export class Json5SyntaxError extends SyntaxError {
  readonly lineNumber: number;
  readonly columnNumber: number;
  constructor(message: string, lineNumber: number, columnNumber: number) {
    super(`${message} at ${lineNumber}:${columnNumber}`);
    this.name = "Json5SyntaxError";
    this.lineNumber = lineNumber;
    this.columnNumber = columnNumber;
  }
}

const WHITESPACE = new Set([
  "\t",
  "\n",
  "\v",
  "\f",
  "\r",
  " ",
  "\u00a0",
  "\u2028",
  "\u2029",
  "\ufeff",
]);
const ESCAPES: Record<string, string> = {
  "b": "\b",
  "f": "\f",
  "n": "\n",
  "r": "\r",
  "t": "\t",
  "v": "\v",
  "0": "\0",
};
const ID_START = /[$_\p{ID_Start}]/u;
const ID_CONTINUE = /[$_\u200c\u200d\p{ID_Continue}]/u;

/** Parses JSON5 text into plain values (objects, arrays, strings, numbers, booleans, null). */
export function parseJson5(text: string): unknown {
  let pos = 0;

  const fail = (message: string, at = pos): never => {
    let line = 1;
    let column = 1;
    for (let i = 0; i < at && i < text.length; i++) {
      if (text[i] === "\n") {
        line++;
        column = 1;
      } else column++;
    }
    throw new Json5SyntaxError(message, line, column);
  };

  const unexpected = (): never =>
    pos >= text.length
      ? fail("invalid end of input")
      : fail(`invalid character ${JSON.stringify(text[pos])}`);

  const skipSpace = () => {
    for (;;) {
      const c = text[pos];
      if (c !== undefined && WHITESPACE.has(c)) pos++;
      else if (c === "/" && text[pos + 1] === "/") {
        while (
          pos < text.length && text[pos] !== "\n" && text[pos] !== "\r" && text[pos] !== "\u2028" &&
          text[pos] !== "\u2029"
        ) pos++;
      } else if (c === "/" && text[pos + 1] === "*") {
        const end = text.indexOf("*/", pos + 2);
        if (end < 0) fail("unterminated comment");
        pos = end + 2;
      } else return;
    }
  };

  const hexDigits = (count: number): number => {
    const digits = text.slice(pos, pos + count);
    if (digits.length !== count || !/^[0-9a-fA-F]+$/.test(digits)) fail("invalid escape");
    pos += count;
    return parseInt(digits, 16);
  };

  const string = (): string => {
    const quote = text[pos++];
    let out = "";
    for (;;) {
      const c = text[pos];
      if (c === undefined) fail("unterminated string");
      if (c === quote) {
        pos++;
        return out;
      }
      if (c === "\n" || c === "\r") fail("unescaped line break in string");
      if (c !== "\\") {
        out += c;
        pos++;
        continue;
      }
      const e = text[++pos];
      pos++;
      if (e === undefined) fail("unterminated string");
      if (e in ESCAPES) {
        if (e === "0" && /[0-9]/.test(text[pos] ?? "")) fail("octal escapes are not allowed", pos - 1);
        out += ESCAPES[e];
      } else if (e === "x") out += String.fromCharCode(hexDigits(2));
      else if (e === "u") out += String.fromCharCode(hexDigits(4));
      else if (e === "\r") {
        if (text[pos] === "\n") pos++;
      } else if (e === "\n" || e === "\u2028" || e === "\u2029") {
        // A line continuation contributes nothing.
      } else if (/[1-9]/.test(e)) fail("invalid escape", pos - 1);
      else out += e;
    }
  };

  const identifierName = (): string => {
    let name = "";
    const part = (first: boolean) => {
      if (text[pos] === "\\") {
        if (text[pos + 1] !== "u") fail("invalid identifier escape");
        pos += 2;
        const ch = String.fromCharCode(hexDigits(4));
        if (!(first ? ID_START : ID_CONTINUE).test(ch)) fail("invalid identifier character");
        return ch;
      }
      const cp = text.codePointAt(pos);
      if (cp === undefined) return undefined;
      const ch = String.fromCodePoint(cp);
      if (!(first ? ID_START : ID_CONTINUE).test(ch)) return undefined;
      pos += ch.length;
      return ch;
    };
    const first = part(true);
    if (first === undefined) unexpected();
    name += first;
    for (;;) {
      if (pos >= text.length) return name;
      const next = part(false);
      if (next === undefined) return name;
      name += next;
    }
  };

  const number = (): number => {
    const start = pos;
    let sign = 1;
    if (text[pos] === "+" || text[pos] === "-") {
      if (text[pos] === "-") sign = -1;
      pos++;
    }
    if (text.startsWith("Infinity", pos)) {
      pos += 8;
      return sign * Infinity;
    }
    if (text.startsWith("NaN", pos)) {
      pos += 3;
      return NaN;
    }
    if (text[pos] === "0" && (text[pos + 1] === "x" || text[pos + 1] === "X")) {
      pos += 2;
      const digits = /^[0-9a-fA-F]+/.exec(text.slice(pos))?.[0];
      if (!digits) unexpected();
      pos += digits!.length;
      return sign * parseInt(digits!, 16);
    }
    const match = /^(?:(?:0|[1-9][0-9]*)(?:\.[0-9]*)?|\.[0-9]+)(?:[eE][+-]?[0-9]+)?/.exec(text.slice(pos));
    if (!match) unexpected();
    pos += match![0].length;
    if (/[0-9]/.test(text[pos] ?? "")) fail("leading zeros are not allowed", start);
    return sign * Number(match![0]);
  };

  /** Reads `item`s separated by commas up to `close` (a trailing comma allowed), from the opener on. */
  const sequence = (close: string, item: () => void) => {
    pos++;
    skipSpace();
    if (text[pos] === close) return void pos++;
    for (;;) {
      item();
      skipSpace();
      if (text[pos] === ",") {
        pos++;
        skipSpace();
        if (text[pos] === close) return void pos++;
        continue;
      }
      if (text[pos] === close) return void pos++;
      unexpected();
    }
  };

  const value = (depth: number): unknown => {
    if (depth > 512) fail("nesting too deep");
    skipSpace();
    const c = text[pos];
    if (c === "{") {
      const object: Record<string, unknown> = {};
      sequence("}", () => {
        const key = text[pos] === '"' || text[pos] === "'" ? string() : identifierName();
        skipSpace();
        if (text[pos] !== ":") unexpected();
        pos++;
        // defineProperty keeps "__proto__" an ordinary key instead of changing the prototype.
        Object.defineProperty(object, key, {
          value: value(depth + 1),
          enumerable: true,
          writable: true,
          configurable: true,
        });
      });
      return object;
    }
    if (c === "[") {
      const array: unknown[] = [];
      sequence("]", () => array.push(value(depth + 1)));
      return array;
    }
    if (c === '"' || c === "'") return string();
    if (text.startsWith("true", pos)) return (pos += 4, true);
    if (text.startsWith("false", pos)) return (pos += 5, false);
    if (text.startsWith("null", pos)) return (pos += 4, null);
    if (c !== undefined && /[-+.0-9IN]/.test(c)) return number();
    return unexpected();
  };

  const result = value(0);
  skipSpace();
  if (pos < text.length) unexpected();
  return result;
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
