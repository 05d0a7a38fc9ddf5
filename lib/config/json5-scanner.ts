/**
 * The lexical half of the JSON5 parser (`json5.ts`): a cursor over the text that skips whitespace and
 * comments and reads one string, identifier name or number at a time, failing with the line and column.
 *
 * @module
 */

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
const LINE_ENDS = new Set(["\n", "\r", "\u2028", "\u2029"]);
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
const DECIMAL = /^(?:(?:0|[1-9][0-9]*)(?:\.[0-9]*)?|\.[0-9]+)(?:[eE][+-]?[0-9]+)?/;

/** A position in JSON5 text and the tokens read from it. */
export class Json5Scanner {
  /** The offset of the next character to read. */
  pos = 0;

  constructor(readonly text: string) {}

  /** The character at the cursor, if any. */
  peek(): string | undefined {
    return this.text[this.pos];
  }

  /** Whether the cursor is past the end. */
  get done(): boolean {
    return this.pos >= this.text.length;
  }

  /** Moves past `word` when the text continues with it. */
  take(word: string): boolean {
    if (!this.text.startsWith(word, this.pos)) return false;
    this.pos += word.length;
    return true;
  }

  /** Throws `message` at `at` (the cursor by default), with its 1-based line and column. */
  fail(message: string, at = this.pos): never {
    let line = 1;
    let column = 1;
    for (let i = 0; i < at && i < this.text.length; i++) {
      if (this.text[i] === "\n") {
        line++;
        column = 1;
      } else column++;
    }
    throw new Json5SyntaxError(message, line, column);
  }

  /** Throws for the character at the cursor (or the end of input). */
  unexpected(): never {
    return this.done
      ? this.fail("invalid end of input")
      : this.fail(`invalid character ${JSON.stringify(this.peek())}`);
  }

  /** Moves past whitespace and comments. */
  skipSpace(): void {
    const text = this.text;
    for (;;) {
      const c = text[this.pos];
      if (c !== undefined && WHITESPACE.has(c)) this.pos++;
      else if (c === "/" && text[this.pos + 1] === "/") {
        while (this.pos < text.length && !LINE_ENDS.has(text[this.pos])) this.pos++;
      } else if (c === "/" && text[this.pos + 1] === "*") {
        const end = text.indexOf("*/", this.pos + 2);
        if (end < 0) this.fail("unterminated comment");
        this.pos = end + 2;
      } else return;
    }
  }

  /** Reads a single- or double-quoted string, the cursor at its opening quote. */
  string(): string {
    const quote = this.text[this.pos++];
    let out = "";
    for (;;) {
      const c = this.text[this.pos];
      if (c === undefined) this.fail("unterminated string");
      if (c === quote) {
        this.pos++;
        return out;
      }
      if (c === "\n" || c === "\r") this.fail("unescaped line break in string");
      if (c === "\\") out += this.#escape();
      else {
        out += c;
        this.pos++;
      }
    }
  }

  /** Reads an identifier name (an unquoted key), with `\uXXXX` escapes. */
  identifierName(): string {
    const first = this.#identifierPart(ID_START);
    if (first === undefined) this.unexpected();
    let name = first!;
    for (;;) {
      if (this.done) return name;
      const next = this.#identifierPart(ID_CONTINUE);
      if (next === undefined) return name;
      name += next;
    }
  }

  /** Reads a number: signed decimal or hex, `Infinity` or `NaN`. */
  number(): number {
    const start = this.pos;
    let sign = 1;
    const c = this.peek();
    if (c === "+" || c === "-") {
      if (c === "-") sign = -1;
      this.pos++;
    }
    if (this.take("Infinity")) return sign * Infinity;
    if (this.take("NaN")) return NaN;
    if (this.take("0x") || this.take("0X")) {
      const digits = /^[0-9a-fA-F]+/.exec(this.text.slice(this.pos))?.[0];
      if (!digits) this.unexpected();
      this.pos += digits!.length;
      return sign * parseInt(digits!, 16);
    }
    const match = DECIMAL.exec(this.text.slice(this.pos));
    if (!match) this.unexpected();
    this.pos += match![0].length;
    if (/[0-9]/.test(this.peek() ?? "")) this.fail("leading zeros are not allowed", start);
    return sign * Number(match![0]);
  }

  /** What the escape at the cursor (a backslash) stands for in a string. */
  #escape(): string {
    const e = this.text[++this.pos];
    this.pos++;
    if (e === undefined) this.fail("unterminated string");
    if (e in ESCAPES) {
      if (e === "0" && /[0-9]/.test(this.peek() ?? "")) {
        this.fail("octal escapes are not allowed", this.pos - 1);
      }
      return ESCAPES[e];
    }
    if (e === "x") return String.fromCharCode(this.#hexDigits(2));
    if (e === "u") return String.fromCharCode(this.#hexDigits(4));
    if (e === "\r") {
      if (this.peek() === "\n") this.pos++;
      return "";
    }
    // A line continuation contributes nothing.
    if (e === "\n" || e === "\u2028" || e === "\u2029") return "";
    if (/[1-9]/.test(e)) this.fail("invalid escape", this.pos - 1);
    return e;
  }

  #hexDigits(count: number): number {
    const digits = this.text.slice(this.pos, this.pos + count);
    if (digits.length !== count || !/^[0-9a-fA-F]+$/.test(digits)) this.fail("invalid escape");
    this.pos += count;
    return parseInt(digits, 16);
  }

  /** One character of an identifier matching `allowed`, or `undefined` where the identifier ends. */
  #identifierPart(allowed: RegExp): string | undefined {
    if (this.peek() === "\\") {
      if (this.text[this.pos + 1] !== "u") this.fail("invalid identifier escape");
      this.pos += 2;
      const ch = String.fromCharCode(this.#hexDigits(4));
      if (!allowed.test(ch)) this.fail("invalid identifier character");
      return ch;
    }
    const cp = this.text.codePointAt(this.pos);
    if (cp === undefined) return undefined;
    const ch = String.fromCodePoint(cp);
    if (!allowed.test(ch)) return undefined;
    this.pos += ch.length;
    return ch;
  }
}
