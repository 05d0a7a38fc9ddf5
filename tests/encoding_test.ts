// base64url lives in lib/encoding.ts, shared by device proofs and cron revisions.
import assert from "node:assert/strict";
import { base64UrlDecode, base64UrlEncode } from "../lib/encoding.ts";
import { revisionOf } from "../lib/cron/views.ts";
import { MAY_IMPORT } from "../scripts/check_layers.ts";

Deno.test("base64url: unpadded, URL-safe, and decodes what it encodes (padding optional)", () => {
  const bytes = new Uint8Array([0xfb, 0xff, 0xfe, 0x00, 0x3e]);
  assert.equal(base64UrlEncode(bytes), "-__-AD4");
  assert.deepEqual(base64UrlDecode("-__-AD4"), bytes);
  assert.deepEqual(base64UrlDecode("-__-AD4="), bytes);
  assert.equal(base64UrlEncode(new Uint8Array()), "");
});

Deno.test("a cron revision is sha256: and the shared encoder's base64url of the digest", async () => {
  const digest = await crypto.subtle.digest("SHA-256", new TextEncoder().encode('{"a":1,"b":[2]}'));
  assert.equal(await revisionOf({ b: [2], a: 1 }), `sha256:${base64UrlEncode(new Uint8Array(digest))}`);
});

Deno.test("cron/ takes base64url from encoding.ts, which imports nothing", async () => {
  assert.deepEqual(MAY_IMPORT["encoding.ts"], []);
  const source = await Deno.readTextFile(new URL("../lib/cron/views.ts", import.meta.url));
  assert.match(source, /from "\.\.\/encoding\.ts"/);
  assert.doesNotMatch(source, /btoa\(/, "no hand-made base64url beside the shared one");
});
