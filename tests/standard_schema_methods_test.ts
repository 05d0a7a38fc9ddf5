// Method descriptors take any Standard Schema, not only zod's: a schema from another library (here a
// hand-written one, validating asynchronously) parses params and checks results through the same registry.
import assert from "node:assert/strict";
import { defineMethod, type StandardSchemaV1 } from "../mod.ts";
import { client, startGateway } from "./_helpers.ts";

/** Accepts `{ name: string }`; answers asynchronously, as some Standard Schema libraries do. */
const nameParams: StandardSchemaV1<{ name: string }> = {
  "~standard": {
    version: 1,
    vendor: "hand-written",
    validate: (value) => {
      const name = (value as { name?: unknown } | null)?.name;
      return Promise.resolve(
        typeof name === "string"
          ? { value: { name } }
          : { issues: [{ message: "must be a string", path: [{ key: "name" }] }] },
      );
    },
  },
};

const greeting: StandardSchemaV1<{ hello: string }> = {
  "~standard": {
    version: 1,
    vendor: "hand-written",
    validate: (value) =>
      typeof (value as { hello?: unknown }).hello === "string"
        ? { value: value as { hello: string } }
        : { issues: [{ message: "hello is missing" }] },
  },
};

Deno.test("a non-zod Standard Schema validates params and results", async () => {
  const gateway = await startGateway({ checkResults: true });
  gateway.registerMethod(defineMethod({
    name: "app.greet",
    scope: "operator.read",
    params: nameParams,
    result: greeting,
    handler: ({ params }) => ({ hello: params.name }),
  }));
  gateway.registerMethod(defineMethod({
    name: "app.broken",
    scope: "operator.read",
    params: nameParams,
    result: greeting,
    handler: () => ({ hello: 1 as unknown as string }),
  }));
  const c = await client(gateway);
  assert.deepEqual((await c.request("app.greet", { name: "ada" })).payload, { hello: "ada" });
  assert.deepEqual((await c.request("app.greet", { name: 5 })).error, {
    code: "INVALID_REQUEST",
    message: "invalid app.greet params: at /name: must be a string",
  });
  const broken = await c.request("app.broken", { name: "ada" });
  assert.equal(broken.ok, false, "a result that fails its schema is not sent as a success");
  await gateway.stop();
});
