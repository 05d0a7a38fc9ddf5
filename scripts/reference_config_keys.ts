/**
 * Regenerates `lib/config/reference-keys.ts`: the config keys the OpenClaw reference gateway knows and this
 * gateway's schema does not, so such keys load with a warning instead of being refused as typos.
 *
 *   npm install --prefix /tmp/ref openclaw@2026.9.6
 *   deno run -A scripts/reference_config_keys.ts /tmp/ref/node_modules/openclaw
 *
 * The reference's root zod schema is found in its dist and walked under Node (it is a Node package);
 * only key names are kept.
 *
 * @module
 */
import { join } from "node:path";
import type { z } from "zod";
import { GatewayConfigSchema } from "../lib/config/schema.ts";

/** The reference schema's shape: object keys (`c`: it also takes any other key), records, arrays, unions. */
type RefNode = {
  o?: Record<string, RefNode | null>;
  c?: boolean;
  r?: RefNode | null;
  a?: RefNode | null;
  u?: RefNode[];
} | null;

const DUMP = `
const [file, name] = process.argv.slice(1);
const schema = (await import(file))[name];
const seen = new Set();
function walk(s) {
  const def = s?._zod?.def;
  if (!def) return null;
  switch (def.type) {
    case "object": {
      if (seen.has(s)) return null;
      seen.add(s);
      const o = {};
      for (const [k, v] of Object.entries(def.shape)) o[k] = walk(v);
      seen.delete(s);
      const rest = def.catchall?._zod?.def?.type;
      return rest && rest !== "never" ? { o, c: true } : { o };
    }
    case "optional": case "nullable": case "default": case "prefault": case "readonly": case "catch":
    case "nonoptional": return walk(def.innerType);
    case "pipe": return walk(def.in) ?? walk(def.out);
    case "lazy": return walk(def.getter());
    case "record": return { r: walk(def.valueType) };
    case "array": return { a: walk(def.element) };
    case "union": { const u = def.options.map(walk).filter(Boolean); return u.length ? { u } : null; }
    case "intersection": { const u = [walk(def.left), walk(def.right)].filter(Boolean); return u.length ? { u } : null; }
    default: return null;
  }
}
console.log(JSON.stringify(walk(schema)));
`;

async function referenceTree(packageDir: string): Promise<RefNode> {
  const dist = join(packageDir, "dist");
  for await (const entry of Deno.readDir(dist)) {
    if (!entry.name.startsWith("zod-schema-") || !entry.name.endsWith(".mjs")) continue;
    const text = await Deno.readTextFile(join(dist, entry.name));
    const exported = text.match(/OpenClawSchema as (\w+)/);
    if (!text.includes("const OpenClawSchema = ") || !exported) continue;
    const out = await new Deno.Command("node", {
      args: ["--input-type=module", "-e", DUMP, join(dist, entry.name), exported[1]],
      stderr: "inherit",
    }).output();
    if (!out.success) throw new Error("node could not load the reference schema");
    return JSON.parse(new TextDecoder().decode(out.stdout));
  }
  throw new Error(`no root config schema found under ${dist}`);
}

interface Def {
  type: string;
  shape?: Record<string, z.ZodType>;
  innerType?: z.ZodType;
  in?: z.ZodType;
  getter?: () => z.ZodType;
  valueType?: z.ZodType;
  element?: z.ZodType;
  options?: z.ZodType[];
}
const defOf = (s: z.ZodType) => (s as unknown as { _zod: { def: Def } })._zod.def;

/** Our schemas at one place, unwrapped to what can hold keys. */
function ours(schema: z.ZodType): z.ZodType[] {
  const def = defOf(schema);
  if (def.innerType) return ours(def.innerType);
  if (def.type === "pipe") return ours(def.in!);
  if (def.type === "lazy") return ours(def.getter!());
  if (def.type === "union") return def.options!.flatMap(ours);
  return ["object", "record", "array"].includes(def.type) ? [schema] : [];
}

function diff(ref: RefNode, schemas: z.ZodType[], pattern: string[], out: Set<string>): void {
  if (!ref || !schemas.length) return;
  for (const option of ref.u ?? []) diff(option, schemas, pattern, out);
  const defs = schemas.map(defOf);
  if (ref.o) {
    const objects = defs.filter((d) => d.type === "object");
    if (!objects.length) return;
    // Any other key is the reference's (plugin channels, provider-specific blocks): "*" stands for it.
    if (ref.c) out.add([...pattern, "*"].join("."));
    for (const [key, child] of Object.entries(ref.o)) {
      const mine = objects.flatMap((d) => (d.shape?.[key] ? ours(d.shape[key]) : []));
      const known = objects.some((d) => d.shape?.[key]);
      if (!known) out.add([...pattern, key].join("."));
      else diff(child, mine, [...pattern, key], out);
    }
  }
  if (ref.r) {
    diff(
      ref.r,
      defs.filter((d) => d.type === "record").flatMap((d) => ours(d.valueType!)),
      [...pattern, "*"],
      out,
    );
  }
  if (ref.a) {
    diff(
      ref.a,
      defs.filter((d) => d.type === "array").flatMap((d) => ours(d.element!)),
      [...pattern, "*"],
      out,
    );
  }
}

const packageDir = Deno.args[0];
if (!packageDir) {
  throw new Error("usage: deno run -A scripts/reference_config_keys.ts <node_modules/openclaw>");
}
const version = JSON.parse(await Deno.readTextFile(join(packageDir, "package.json"))).version;
const keys = new Set<string>();
diff(await referenceTree(packageDir), ours(GatewayConfigSchema), [], keys);
const lines = [...keys].sort().map((k) => `  ${JSON.stringify(k)},`);
const target = new URL("../lib/config/reference-keys.ts", import.meta.url);
await Deno.writeTextFile(
  target,
  `/**
 * Config keys the OpenClaw reference gateway (openclaw@${version}) knows and this gateway does not
 * implement, as dotted paths with \`*\` for record keys and array items. A config shared with the reference
 * loads here with a warning naming them. Generated by \`scripts/reference_config_keys.ts\`; do not edit.
 *
 * @module
 */

/** Dotted key paths known to the reference only. */
export const REFERENCE_ONLY_KEYS: ReadonlySet<string> = new Set([
${lines.join("\n")}
]);
`,
);
console.log(`${keys.size} keys written to ${target.pathname}`);
