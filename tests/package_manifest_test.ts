// deno.json, jsr.json and the version the gateway reports must agree: a release that bumps one and
// not the others would publish one version and announce another in hello-ok.
import assert from "node:assert/strict";
import { GATEWAY_VERSION } from "../mod.ts";

const read = async (name: string) =>
  JSON.parse(await Deno.readTextFile(new URL(`../${name}`, import.meta.url)));

Deno.test("deno.json, jsr.json and GATEWAY_VERSION agree", async () => {
  const deno = await read("deno.json");
  const jsr = await read("jsr.json");
  assert.equal(jsr.name, deno.name);
  assert.equal(jsr.version, deno.version);
  assert.deepEqual(jsr.exports, deno.exports);
  assert.equal(GATEWAY_VERSION, deno.version);
});
