// The contract every JsonDocs meets; `makePair` returns two writers over one backing (two replicas over one
// Redis; for in-process documents, the same store twice).
import assert from "node:assert/strict";
import { ChannelPairing } from "../../lib/channels/pairing.ts";
import type { JsonDocs } from "../../lib/state/json-docs.ts";

/** Registers the JsonDocs contract tests for the implementation `name`. */
export function jsonDocsContract(name: string, makePair: () => Promise<[JsonDocs, JsonDocs]>): void {
  const test = (title: string, body: (a: JsonDocs, b: JsonDocs) => Promise<void>) =>
    Deno.test(`JsonDocs contract (${name}): ${title}`, async () => body(...await makePair()));

  test("a document written is read back whole; a missing one is undefined", async (a, b) => {
    assert.equal(await a.read("x/doc.json"), undefined);
    await a.write("x/doc.json", { version: 1, list: [1, 2] });
    assert.deepEqual(await b.read("x/doc.json"), { version: 1, list: [1, 2] });
  });

  test("concurrent updates through both writers lose nothing", async (a, b) => {
    const add = (docs: JsonDocs, item: string) =>
      docs.update("x/list.json", (doc) => {
        const items = (doc as { items?: string[] } | undefined)?.items ?? [];
        return { value: { items: [...items, item] }, result: items.length };
      });
    await Promise.all(Array.from({ length: 20 }, (_, i) => add(i % 2 ? a : b, `item-${i}`)));
    const items = ((await a.read("x/list.json")) as { items: string[] }).items;
    assert.deepEqual([...items].sort(), Array.from({ length: 20 }, (_, i) => `item-${i}`).sort());
  });

  test("an update that returns no value writes nothing and hands back its result", async (a) => {
    await a.write("x/keep.json", { n: 1 });
    assert.equal(await a.update("x/keep.json", () => ({ result: "kept" })), "kept");
    assert.deepEqual(await a.read("x/keep.json"), { n: 1 });
  });

  test("channel pairing: two approvals and two requests at once on two writers all hold", async (a, b) => {
    const [onA, onB] = [new ChannelPairing(a), new ChannelPairing(b)];
    const [r1, r2] = [await onA.request("telegram", "111"), await onA.request("telegram", "222")];
    const approved = await Promise.all([
      onA.approveCode("telegram", r1.code),
      onB.approveCode("telegram", r2.code),
    ]);
    assert.deepEqual(approved.map((r) => r?.id), ["111", "222"]);
    assert.deepEqual((await onA.approved("telegram")).sort(), ["111", "222"]);
    assert.deepEqual(await onA.pending("telegram"), []);
    await Promise.all([onA.request("telegram", "333"), onB.request("telegram", "444")]);
    assert.deepEqual((await onB.pending("telegram")).map((r) => r.id).sort(), ["333", "444"]);
  });
}
