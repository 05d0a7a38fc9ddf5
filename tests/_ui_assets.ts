// Builds lib/ui/assets.ts from lib/ui/web/ (run `deno run -A tests/_ui_assets.ts` after editing the web
// files); tests/ui_assets_test.ts fails while the two disagree.
const WEB = new URL("../lib/ui/web/", import.meta.url);
const OUT = new URL("../lib/ui/assets.ts", import.meta.url);

export const WEB_FILES: Record<string, string> = {
  "index.html": "text/html; charset=utf-8",
  "app.js": "text/javascript; charset=utf-8",
  "style.css": "text/css; charset=utf-8",
};

export async function readWebFiles(): Promise<Record<string, string>> {
  const files: Record<string, string> = {};
  for (const name of Object.keys(WEB_FILES)) files[name] = await Deno.readTextFile(new URL(name, WEB));
  return files;
}

async function hash(text: string): Promise<string> {
  const digest = await crypto.subtle.digest("SHA-256", new TextEncoder().encode(text));
  return [...new Uint8Array(digest)].slice(0, 6).map((b) => b.toString(16).padStart(2, "0")).join("");
}

async function build(): Promise<string> {
  const files = await readWebFiles();
  const entries = await Promise.all(
    Object.entries(WEB_FILES).map(async ([name, type]) =>
      `  ${JSON.stringify(name)}: {\n    type: ${JSON.stringify(type)},\n    hash: ${
        JSON.stringify(await hash(files[name]))
      },\n    body: ${JSON.stringify(files[name])},\n  },`
    ),
  );
  return [
    "/**",
    " * The Control UI's static files, generated from `lib/ui/web/` by `tests/_ui_assets.ts` so they ship",
    " * inside `deno compile` binaries and JSR packages. Do not edit by hand.",
    " *",
    " * @module",
    " */",
    'import type { UiAsset } from "./asset.ts";',
    "",
    "/** Every file of the UI by name. */",
    "export const UI_FILES: Readonly<Record<string, UiAsset>> = {",
    ...entries,
    "};",
    "",
  ].join("\n");
}

if (import.meta.main) {
  await Deno.writeTextFile(OUT, await build());
  console.log(`wrote ${OUT.pathname}`);
}
