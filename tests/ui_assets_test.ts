// Control UI serving without a browser: the built assets match lib/ui/web/, cache and CSP headers,
// base paths, the auth-gated runtime config, and the origin rules for sockets.
import assert from "node:assert/strict";
import { UI_FILES } from "../lib/ui/assets.ts";
import { controlUiModule, originRefusal } from "../lib/ui/mod.ts";
import type { GatewayConfig } from "../mod.ts";
import { startGateway, TOKEN } from "./_helpers.ts";
import { readWebFiles } from "./_ui_assets.ts";

Deno.test("ui assets: lib/ui/assets.ts is built from lib/ui/web (run tests/_ui_assets.ts after edits)", async () => {
  const files = await readWebFiles();
  for (const [name, body] of Object.entries(files)) {
    assert.equal(UI_FILES[name]?.body, body, `${name} is stale`);
  }
});

async function uiGateway(controlUi: Record<string, unknown> = {}) {
  const config: GatewayConfig = { gateway: { auth: { mode: "token", token: TOKEN }, controlUi } };
  return await startGateway({ config, modules: [controlUiModule()] });
}

Deno.test("ui serving: index no-cache with CSP, hashed assets immutable, ETag, base path, disabled", async () => {
  const gateway = await uiGateway({ basePath: "/openclaw/" });
  try {
    const redirect = await gateway.fetch(new Request("http://127.0.0.1/openclaw"));
    assert.equal(redirect.status, 308);
    assert.equal(redirect.headers.get("location"), "/openclaw/");
    const index = await gateway.fetch(new Request("http://127.0.0.1/openclaw/"));
    const html = await index.text();
    assert.equal(index.headers.get("cache-control"), "no-cache");
    assert.match(index.headers.get("content-security-policy")!, /default-src 'none'.*script-src 'self'/);
    assert.doesNotMatch(index.headers.get("content-security-policy")!, /unsafe/);
    const script = /src="([^"]+)"/.exec(html)![1];
    assert.match(script, /^\/openclaw\/assets\/app\.[0-9a-f]{12}\.js$/);
    const js = await gateway.fetch(new Request(`http://127.0.0.1${script}`));
    assert.equal(js.headers.get("cache-control"), "public, max-age=31536000, immutable");
    assert.equal(js.headers.get("content-type"), "text/javascript; charset=utf-8");
    const etag = js.headers.get("etag")!;
    await js.body?.cancel();
    const again = await gateway.fetch(
      new Request(`http://127.0.0.1${script}`, { headers: { "If-None-Match": etag } }),
    );
    assert.equal(again.status, 304);
    const stale = await gateway.fetch(new Request("http://127.0.0.1/openclaw/assets/app.000000000000.js"));
    assert.equal(stale.status, 404);
    await stale.body?.cancel();

    const anonymous = await gateway.fetch(new Request("http://127.0.0.1/openclaw/control-ui-config.json"));
    assert.equal(anonymous.status, 401);
    await anonymous.body?.cancel();
    const config = await gateway.fetch(
      new Request("http://127.0.0.1/openclaw/control-ui-config.json", {
        headers: { Authorization: `Bearer ${TOKEN}` },
      }),
    );
    assert.equal((await config.json()).basePath, "/openclaw");

    gateway.updateConfig({
      ...gateway.config(),
      gateway: { ...gateway.config().gateway, controlUi: { enabled: false, basePath: "/openclaw/" } },
    });
    const off = await gateway.fetch(new Request("http://127.0.0.1/openclaw/"));
    assert.equal(off.status, 404);
    await off.body?.cancel();
  } finally {
    await gateway.stop();
  }
});

Deno.test("ui origins: allowlist, seeded localhost ports, private same-origin, refusals name the fix", () => {
  const info = (origin: string | undefined, host = "gw.example.com:18789") => ({
    remoteAddress: "10.0.0.2",
    url: "ws://gw.example.com:18789/",
    headers: new Headers({ host, ...(origin ? { origin } : {}) }),
  });
  assert.equal(originRefusal(info(undefined), []), undefined, "no Origin: not a browser");
  assert.equal(originRefusal(info("http://localhost:18789"), []), undefined);
  assert.equal(originRefusal(info("http://127.0.0.1:18789"), []), undefined);
  assert.equal(originRefusal(info("https://ops.example.com"), ["https://ops.example.com"]), undefined);
  assert.equal(originRefusal(info("https://anything.test"), ["*"]), undefined);
  assert.equal(originRefusal(info("http://192.168.1.5:18789", "192.168.1.5:18789"), []), undefined);
  assert.equal(originRefusal(info("http://box.local:18789", "box.local:18789"), []), undefined);
  assert.match(
    originRefusal(info("https://gw.example.com:18789", "gw.example.com:18789"), [])!,
    /origin not allowed: https:\/\/gw\.example\.com:18789 \(add it to gateway\.controlUi\.allowedOrigins\)/,
  );
  assert.ok(originRefusal(info("http://localhost:9999"), []), "a different local port is another origin");
});
