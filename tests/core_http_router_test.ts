import assert from "node:assert/strict";
import { HttpRouter, pathOf } from "../lib/http/router.ts";

Deno.test("pathOf agrees with URL.pathname on the shapes requests come in", () => {
  for (
    const url of [
      "http://127.0.0.1:18789/v1/models",
      "http://h/v1/models/openclaw%2Fdefault?x=1",
      "http://h/",
      "http://h",
      "http://h/a/b#frag",
      "http://h/a?b=/c#d",
      "http://user@h:1/p?q",
    ]
  ) assert.equal(pathOf(url), new URL(url).pathname, url);
});

Deno.test("exact routes win over prefixes, the longest prefix wins, and methods are enforced", async () => {
  const router = new HttpRouter();
  const hit = (name: string) => () => new Response(name);
  router.add({ path: "/v1", prefix: true, handler: hit("v1") });
  router.add({ path: "/v1/models", prefix: true, handler: hit("models") });
  router.add({ path: "/v1/models/x", handler: hit("exact"), methods: ["GET"] });
  const text = async (path: string, method = "GET") => {
    const { response } = router.handle(new Request(`http://h${path}`, { method }), { remoteAddress: "" });
    const res = await response;
    return `${res.status} ${await res.text()}`;
  };
  assert.equal(await text("/v1/models/x"), "200 exact");
  assert.equal(await text("/v1/models/y"), "200 models");
  assert.equal(await text("/v1/other"), "200 v1");
  assert.equal(await text("/nope"), "404 Not Found");
  assert.equal(await text("/v1x"), "404 Not Found", "a prefix matches whole path segments only");
  assert.equal(await text("/v1/models/x", "POST"), "405 Method Not Allowed");
});
