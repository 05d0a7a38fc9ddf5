// deno.json (the one manifest `deno publish` reads) and the version the gateway reports must agree: a
// release that bumps one and not the other would publish one version and announce another in hello-ok.
import assert from "node:assert/strict";
import { GATEWAY_VERSION } from "../mod.ts";

const read = async (name: string) =>
  JSON.parse(await Deno.readTextFile(new URL(`../${name}`, import.meta.url)));

Deno.test("deno.json is the one package manifest, and GATEWAY_VERSION agrees with it", async () => {
  const deno = await read("deno.json");
  assert.equal(deno.name, "@openclaw-ts/gateway");
  // A second manifest (jsr.json) that deno publish ignores beside deno.json would only drift from it.
  await assert.rejects(read("jsr.json"), Deno.errors.NotFound);
  assert.equal(GATEWAY_VERSION, deno.version);
});
