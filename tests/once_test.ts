// One loader for everything imported on first use (lib/once.ts): concurrent first calls share one load, a
// load that succeeded is kept, and one that failed is tried again on the next call.
import assert from "node:assert/strict";
import { once } from "../lib/once.ts";

Deno.test("once: concurrent first calls share one load, and a success is kept", async () => {
  let loads = 0;
  const load = once(async () => {
    loads++;
    await new Promise((resolve) => setTimeout(resolve, 5));
    return loads;
  });
  assert.equal(load.started, undefined, "nothing loads before the first call");
  assert.deepEqual(await Promise.all([load(), load()]), [1, 1]);
  assert.equal(await load(), 1);
  assert.equal(await load.started, 1);
  assert.equal(loads, 1);
});

Deno.test("once: a failed load is tried again on the next call", async () => {
  let loads = 0;
  const load = once(() =>
    ++loads === 1 ? Promise.reject(new Error("import failed")) : Promise.resolve(loads)
  );
  await assert.rejects(Promise.all([load(), load()]), /import failed/);
  assert.equal(load.started, undefined, "a failed load is not kept");
  assert.equal(await load(), 2);
  assert.equal(loads, 2);
});
