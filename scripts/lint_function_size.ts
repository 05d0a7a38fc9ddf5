/**
 * A `deno lint` plugin (deno.json `lint.plugins`) that keeps every function in `lib/` and `runner/` short
 * enough to hold in one's head (docs/architecture.md, "Function size"). Two bounds:
 *
 * - At most {@link OWN_LINE_LIMIT} own lines. A function's own lines are the lines it spans minus the lines
 *   spanned by the functions nested in it, so a factory that returns many small handlers is measured per
 *   handler, and its own wiring separately.
 * - At most {@link SPAN_LINE_LIMIT} lines spanned, nested functions included, unless the function is a
 *   list factory: it ends by returning an array literal (method descriptors, a table of data) and declares
 *   no `let` or `var` of its own. Otherwise a long closure whose inner functions share its mutable state
 *   (what `createGateway` was) passes the first bound piece by piece; its state wants names (a class with
 *   private fields, or modules of their own). A list of independent entries is read one entry at a time.
 *   The bound sits just under the smallest such closure an audit of issue 14 found (152 lines; the others
 *   169, 192 and 309).
 *
 * Tests, benches and scripts are not measured.
 *
 * @module
 */

/** The most own lines a function may have. */
const OWN_LINE_LIMIT = 60;

/** The most lines a function may span, nested functions included, unless it is a list factory. */
const SPAN_LINE_LIMIT = 150;

/** Folders (relative to the repository root, `/`-separated) whose functions are measured. */
const MEASURED_FOLDERS: readonly string[] = ["lib/", "runner/"];

const repoRoot = decodeURIComponent(new URL("../", import.meta.url).pathname).replaceAll("\\", "/");

type FunctionNode =
  | Deno.lint.FunctionDeclaration
  | Deno.lint.FunctionExpression
  | Deno.lint.ArrowFunctionExpression;

/** One function with its place in the file (0-based first and last line) and the lines its nested ones span. */
interface Measured {
  node: FunctionNode;
  first: number;
  last: number;
  nestedLines: number;
}

/** Whether `node` ends by returning an array literal (its whole body, for an arrow function). */
function returnsList(node: FunctionNode): boolean {
  const body = node.body;
  if (!body) return false;
  if (body.type !== "BlockStatement") return body.type === "ArrayExpression";
  const last = body.body[body.body.length - 1];
  return last?.type === "ReturnStatement" && last.argument?.type === "ArrayExpression";
}

/** Whether `filename` is in a measured folder of this repository. */
function measured(filename: string): boolean {
  const path = filename.replaceAll("\\", "/");
  if (!path.startsWith(repoRoot)) return false;
  const relative = path.slice(repoRoot.length);
  return MEASURED_FOLDERS.some((folder) => relative.startsWith(folder));
}

/** The 0-based line of each offset, by binary search over the offsets where lines start. */
function lineIndex(text: string): (offset: number) => number {
  const starts = [0];
  for (let i = text.indexOf("\n"); i !== -1; i = text.indexOf("\n", i + 1)) starts.push(i + 1);
  return (offset) => {
    let low = 0;
    let high = starts.length - 1;
    while (low < high) {
      const mid = (low + high + 1) >> 1;
      if (starts[mid] <= offset) low = mid;
      else high = mid - 1;
    }
    return low;
  };
}

function keyName(key: Deno.lint.Node, text: string): string {
  if (key.type === "Identifier") return key.name;
  if (key.type === "PrivateIdentifier") return `#${key.name}`;
  if (key.type === "Literal") return String(key.value);
  return text.slice(key.range[0], key.range[1]);
}

function shorten(source: string): string {
  const oneLine = source.replace(/\s+/g, " ");
  return oneLine.length > 40 ? `${oneLine.slice(0, 37)}...` : oneLine;
}

/** How a diagnostic names a function: its own name, the name it is bound to, or where it is passed. */
function describeFunction(node: FunctionNode, text: string): string {
  if (node.type !== "ArrowFunctionExpression" && node.id) return `function \`${node.id.name}\``;
  const parent = node.parent;
  switch (parent.type) {
    case "MethodDefinition":
    case "Property":
    case "PropertyDefinition":
      return `function \`${keyName(parent.key, text)}\``;
    case "VariableDeclarator":
      return `function \`${keyName(parent.id, text)}\``;
    case "AssignmentExpression":
      return `function \`${shorten(text.slice(parent.left.range[0], parent.left.range[1]))}\``;
    case "CallExpression":
    case "NewExpression": {
      const callee = text.slice(parent.callee.range[0], parent.callee.range[1]);
      return `the function passed to \`${shorten(callee)}\``;
    }
    default:
      return "an anonymous function";
  }
}

const functionSize: Deno.lint.Rule = {
  create(context) {
    if (!measured(context.filename)) return {};
    const found: FunctionNode[] = [];
    /** Where each `let` and `var` declaration starts. */
    const mutableAt: number[] = [];
    const collect = (node: FunctionNode) => void found.push(node);
    return {
      FunctionDeclaration: collect,
      FunctionExpression: collect,
      ArrowFunctionExpression: collect,
      VariableDeclaration(node) {
        if (node.kind === "let" || node.kind === "var") mutableAt.push(node.range[0]);
      },
      "Program:exit"() {
        const text = context.sourceCode.text;
        const lineOf = lineIndex(text);
        // Ranges nest or are disjoint, so in start order each function's nearest open ancestor is on the stack.
        const ordered = found
          .map((node): Measured => ({
            node,
            first: lineOf(node.range[0]),
            last: lineOf(Math.max(node.range[0], node.range[1] - 1)),
            nestedLines: 0,
          }))
          .sort((a, b) => a.node.range[0] - b.node.range[0] || b.node.range[1] - a.node.range[1]);
        const open: Measured[] = [];
        for (const fn of ordered) {
          while (open.length > 0 && open[open.length - 1].node.range[1] <= fn.node.range[0]) open.pop();
          const parent = open[open.length - 1];
          if (parent) parent.nestedLines += fn.last - fn.first + 1;
          open.push(fn);
        }
        // A declaration belongs to the innermost function around it: the last in start order that holds it.
        const mutable = new Set<Measured>();
        for (const at of mutableAt) {
          const owner = ordered.findLast((fn) => fn.node.range[0] <= at && at < fn.node.range[1]);
          if (owner) mutable.add(owner);
        }
        const report = (fn: Measured, message: string, hint: string) => {
          const headEnd = text.indexOf("\n", fn.node.range[0]);
          context.report({
            range: [
              fn.node.range[0],
              headEnd === -1 ? fn.node.range[1] : Math.min(headEnd, fn.node.range[1]),
            ],
            message: `${describeFunction(fn.node, text)} ${message}: split it`,
            hint: `${hint} (docs/architecture.md, Function size).`,
          });
        };
        for (const fn of ordered) {
          const span = fn.last - fn.first + 1;
          const own = span - fn.nestedLines;
          if (own > OWN_LINE_LIMIT) {
            report(
              fn,
              `has ${own} own lines (limit ${OWN_LINE_LIMIT})`,
              "Move its steps into named functions that read top-down",
            );
          }
          if (span > SPAN_LINE_LIMIT && (mutable.has(fn) || !returnsList(fn.node))) {
            report(
              fn,
              `spans ${span} lines (limit ${SPAN_LINE_LIMIT} unless it returns a list and has no \`let\` of its own)`,
              "Give the state its inner functions share a name: a class with private fields, or modules of their own",
            );
          }
        }
      },
    };
  },
};

/** The house lint rules; `deno lint` reports this one as `house/function-size`. */
const plugin: Deno.lint.Plugin = {
  name: "house",
  rules: { "function-size": functionSize },
};

export default plugin;
