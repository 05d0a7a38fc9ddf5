/**
 * A small lexer for TypeScript source text: enough to tell code from comments, strings, template text and
 * regular expressions, so the layer check can search code without a parser.
 *
 * @module
 */

/** Words after which a `/` starts a regular expression rather than a division. */
const REGEX_AFTER_WORD = new Set(
  "return typeof case do else in of new delete void throw yield await".split(" "),
);

/**
 * `source` with comments, template-literal text and regular-expression bodies replaced by spaces (line breaks
 * kept, so offsets and line numbers stay put); the contents of `'…'` and `"…"` strings are kept when
 * `keepQuoted` (to read import specifiers) and blanked otherwise.
 */
export function blankSource(source: string, keepQuoted: boolean): string {
  const out = source.split("");
  const blank = (from: number, to: number) => {
    for (let i = from; i < to; i++) if (out[i] !== "\n") out[i] = " ";
  };
  // One entry per open `${`: how many `{` opened inside it are still open.
  const templates: number[] = [];
  let i = 0;
  let previous = ""; // the last significant code token's last character, or the word it was
  const template = (start: number) => { // scans template text from `start` to its end or to a `${`
    let j = start;
    while (j < source.length && source[j] !== "`" && !(source[j] === "$" && source[j + 1] === "{")) {
      j += source[j] === "\\" ? 2 : 1;
    }
    blank(start, Math.min(j, source.length));
    if (source[j] === "$") {
      templates.push(0);
      previous = "{";
      return j + 2;
    }
    previous = "`";
    return j + 1;
  };
  while (i < source.length) {
    const c = source[i];
    if (c === "/" && source[i + 1] === "/") {
      const end = source.indexOf("\n", i);
      blank(i, end === -1 ? source.length : end);
      i = end === -1 ? source.length : end;
    } else if (c === "/" && source[i + 1] === "*") {
      const end = source.indexOf("*/", i + 2);
      const stop = end === -1 ? source.length : end + 2;
      blank(i, stop);
      i = stop;
    } else if (c === '"' || c === "'") {
      let j = i + 1;
      while (j < source.length && source[j] !== c && source[j] !== "\n") j += source[j] === "\\" ? 2 : 1;
      if (!keepQuoted) blank(i + 1, j);
      previous = c;
      i = j + 1;
    } else if (c === "`") {
      i = template(i + 1);
    } else if (c === "}" && templates.length && templates[templates.length - 1] === 0) {
      templates.pop();
      i = template(i + 1);
    } else if (c === "/" && startsRegex(previous)) {
      let j = i + 1, inClass = false;
      while (j < source.length && source[j] !== "\n" && (inClass || source[j] !== "/")) {
        if (source[j] === "[") inClass = true;
        else if (source[j] === "]") inClass = false;
        j += source[j] === "\\" ? 2 : 1;
      }
      blank(i + 1, j);
      previous = "/regex";
      i = j + 1;
    } else if (/[\w$]/.test(c)) {
      let j = i;
      while (j < source.length && /[\w$]/.test(source[j])) j++;
      previous = source.slice(i, j);
      i = j;
    } else {
      if (!/\s/.test(c)) previous = c;
      if (templates.length && c === "{") templates[templates.length - 1]++;
      if (templates.length && c === "}") templates[templates.length - 1]--;
      i++;
    }
  }
  return out.join("");
}

function startsRegex(previous: string): boolean {
  if (previous === "") return true;
  if (/^[\w$]/.test(previous)) return REGEX_AFTER_WORD.has(previous);
  return previous.length === 1 && !")]}\"'`".includes(previous);
}
