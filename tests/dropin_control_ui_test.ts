// OpenClaw's own Control UI against this gateway: `gateway.controlUi.root` serves another UI build
// same-origin (files, client routes, base path, runtime config, no way out of the root), and the
// methods that UI calls answer in the reference's shapes.
import assert from "node:assert/strict";
import { join } from "node:path";
import { controlUiModule } from "../lib/ui/mod.ts";
import type { GatewayConfig } from "../mod.ts";
import { startGateway, TOKEN } from "./_helpers.ts";

const INDEX = `<!doctype html>
<html lang="en">
  <head>
    <link rel="icon" href="./favicon.svg" />
    <script>globalThis.inline = 1;</script>
    <script type="module" crossorigin src="./assets/index-abc123.js"></script>
  </head>
  <body><openclaw-app></openclaw-app></body>
</html>
`;

/** A fake UI build in a temporary directory, with a secret next to it and a symlink pointing at it. */
async function uiBuild(): Promise<{ dir: string; root: string }> {
  const dir = await Deno.makeTempDir({ prefix: "openclaw-ui-root-" });
  const root = join(dir, "control-ui");
  await Deno.mkdir(join(root, "assets"), { recursive: true });
  await Deno.writeTextFile(join(root, "index.html"), INDEX);
  await Deno.writeTextFile(join(root, "assets", "index-abc123.js"), "export const app = 1;\n");
  await Deno.writeTextFile(join(root, "assets", "style-1.css"), "body{}\n");
  await Deno.writeTextFile(join(root, "favicon.svg"), "<svg/>");
  await Deno.writeTextFile(join(root, "manifest.webmanifest"), "{}");
  await Deno.writeTextFile(join(dir, "secret.txt"), "top secret");
  await Deno.symlink(join(dir, "secret.txt"), join(root, "leak.txt"));
  await Deno.symlink(join(root, "favicon.svg"), join(root, "inside.svg"));
  return { dir, root };
}

async function rootGateway(controlUi: Record<string, unknown>) {
  const config: GatewayConfig = { gateway: { auth: { mode: "token", token: TOKEN }, controlUi } };
  return await startGateway({ config, modules: [controlUiModule()] });
}

Deno.test("controlUi.root: files with their types, client routes get index.html with the base path", async () => {
  const { dir, root } = await uiBuild();
  const gateway = await rootGateway({ root, basePath: "/openclaw" });
  const get = (path: string) => gateway.fetch(new Request(`http://127.0.0.1${path}`));
  try {
    const index = await get("/openclaw/");
    const html = await index.text();
    assert.equal(index.status, 200);
    assert.equal(index.headers.get("content-type"), "text/html; charset=utf-8");
    assert.match(html, /<html data-openclaw-control-ui-base-path="\/openclaw" lang="en">/);
    assert.match(html, /src="\/openclaw\/assets\/index-abc123\.js"/);
    assert.match(html, /href="\/openclaw\/favicon\.svg"/);
    const csp = index.headers.get("content-security-policy")!;
    const inline = "globalThis.inline = 1;";
    const digest = await crypto.subtle.digest("SHA-256", new TextEncoder().encode(inline));
    const hash = `sha256-${btoa(String.fromCharCode(...new Uint8Array(digest)))}`;
    assert.ok(csp.includes(`'${hash}'`), `the inline script is admitted by hash: ${csp}`);
    assert.doesNotMatch(csp, /script-src[^;]*unsafe-inline/);

    for (const route of ["/openclaw/chat", "/openclaw/agents/main/sessions", "/openclaw/index.html"]) {
      const page = await get(route);
      assert.equal(page.status, 200, route);
      assert.match(await page.text(), /data-openclaw-control-ui-base-path/, route);
    }
    const expected: [string, string, string][] = [
      [
        "/openclaw/assets/index-abc123.js",
        "text/javascript; charset=utf-8",
        "public, max-age=31536000, immutable",
      ],
      ["/openclaw/assets/style-1.css", "text/css; charset=utf-8", "public, max-age=31536000, immutable"],
      ["/openclaw/favicon.svg", "image/svg+xml", "no-cache"],
      ["/openclaw/manifest.webmanifest", "application/manifest+json; charset=utf-8", "no-cache"],
      ["/openclaw/inside.svg", "image/svg+xml", "no-cache"],
    ];
    for (const [path, type, cache] of expected) {
      const file = await get(path);
      await file.body?.cancel();
      assert.equal(file.status, 200, path);
      assert.equal(file.headers.get("content-type"), type, path);
      assert.equal(file.headers.get("cache-control"), cache, path);
      assert.equal(file.headers.get("x-content-type-options"), "nosniff", path);
    }
    const head = await gateway.fetch(
      new Request("http://127.0.0.1/openclaw/favicon.svg", { method: "HEAD" }),
    );
    assert.equal(head.status, 200);
    assert.equal(await head.text(), "");
    for (const missing of ["/openclaw/assets/gone.js", "/openclaw/nope.png"]) {
      const file = await get(missing);
      await file.body?.cancel();
      assert.equal(file.status, 404, missing);
    }
  } finally {
    await gateway.stop();
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("controlUi.root: traversal, encoded traversal and symlinks out of the root are refused", async () => {
  const { dir, root } = await uiBuild();
  const gateway = await rootGateway({ root });
  try {
    for (
      const path of [
        "/leak.txt",
        "/%2e%2e/secret.txt",
        "/assets/%2e%2e/%2e%2e/secret.txt",
        "/..%2fsecret.txt",
        "/a%00.js",
        "/%E0%A4%A",
      ]
    ) {
      const response = await gateway.fetch(new Request(`http://127.0.0.1${path}`));
      const body = await response.text();
      assert.equal(response.status, 404, path);
      assert.doesNotMatch(body, /top secret/, path);
    }
  } finally {
    await gateway.stop();
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("controlUi.root: runtime config behind gateway auth with the reference's fields; default stays built-in", async () => {
  const { dir, root } = await uiBuild();
  const gateway = await rootGateway({ root });
  const builtIn = await rootGateway({});
  try {
    const anonymous = await gateway.fetch(new Request("http://127.0.0.1/control-ui-config.json"));
    await anonymous.body?.cancel();
    assert.equal(anonymous.status, 401);
    const config = await gateway.fetch(
      new Request("http://127.0.0.1/control-ui-config.json", {
        headers: { Authorization: `Bearer ${TOKEN}` },
      }),
    );
    assert.equal(config.status, 200);
    const body = await config.json();
    assert.equal(body.assistantName, "OpenClaw");
    assert.equal(typeof body.serverVersion, "string");
    assert.equal(body.terminalEnabled, false);
    assert.equal(body.cliAgentsEnabled, false);
    assert.deepEqual(body.pluginFrameGrants, []);

    const page = await builtIn.fetch(new Request("http://127.0.0.1/"));
    assert.match(await page.text(), /<title>OpenClaw Gateway<\/title>/);
    const stray = await builtIn.fetch(new Request("http://127.0.0.1/chat"));
    await stray.body?.cancel();
    assert.equal(stray.status, 404, "without a root, only the built-in page's paths exist");
  } finally {
    await gateway.stop();
    await builtIn.stop();
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("controlUi.root: a root that does not exist answers 503 naming it", async () => {
  const gateway = await rootGateway({ root: "/nonexistent/control-ui" });
  try {
    const response = await gateway.fetch(new Request("http://127.0.0.1/"));
    assert.equal(response.status, 503);
    assert.match(await response.text(), /\/nonexistent\/control-ui/);
  } finally {
    await gateway.stop();
  }
});
