// Methods loaded on their first call (lib/methods/lazy.ts): nothing loads before a call, one load serves
// every method of a feature and concurrent first calls, scope is refused before anything loads, and params
// are validated exactly as an eagerly registered descriptor validates them. Cron, registered that way,
// answers its methods and schedules a job added after start.
import assert from "node:assert/strict";
import { z } from "zod";
import { agentsModule } from "../lib/agents/mod.ts";
import { cronModule } from "../lib/cron/mod.ts";
import { type AnyMethod, defineMethod } from "../lib/methods/descriptor.ts";
import { lazyMethods } from "../lib/methods/lazy.ts";
import { MemoryJsonDocs } from "../lib/state/json-docs.ts";
import type { Frame } from "../mod.ts";
import { client, connectParams, startGateway } from "./_helpers.ts";

const greet = (name: string) =>
  defineMethod({
    name,
    scope: "operator.write",
    params: z.strictObject({ sessionKey: z.string().min(1), count: z.number().int().optional() }),
    result: z.object({ hello: z.string() }),
    handler: ({ params }) => ({ hello: params.sessionKey }),
  });

function lazyGreetings(names: string[]): { methods: ReturnType<typeof lazyMethods>; loads: () => number } {
  let loads = 0;
  const methods = lazyMethods(
    Object.fromEntries(names.map((name) => [name, "operator.write" as const])),
    async () => {
      loads++;
      await new Promise((resolve) => setTimeout(resolve, 5));
      return names.map(greet) as AnyMethod[];
    },
  );
  return { methods, loads: () => loads };
}

const errorOf = (frame: Frame) => {
  assert.equal(frame.ok, false, JSON.stringify(frame));
  return frame.error as { code: string; message: string };
};

Deno.test("a lazy method loads once, on the first call of any method it shares a load with", async () => {
  const gateway = await startGateway({ checkResults: true });
  const { methods, loads } = lazyGreetings(["app.one", "app.two"]);
  for (const method of methods) gateway.registerMethod(method);
  const c = await client(gateway, connectParams({ scopes: ["operator.write"] }));
  assert.equal(loads(), 0);
  const [one, two] = await Promise.all([
    c.request("app.one", { sessionKey: "a" }),
    c.request("app.two", { sessionKey: "b" }),
  ]);
  assert.deepEqual([one.payload, two.payload], [{ hello: "a" }, { hello: "b" }]);
  await c.request("app.one", { sessionKey: "c" });
  assert.equal(loads(), 1);
  c.socket.close();
  await gateway.stop();
});

Deno.test("a lazy method refuses a caller without its scope before loading anything", async () => {
  const gateway = await startGateway();
  const { methods, loads } = lazyGreetings(["app.one"]);
  for (const method of methods) gateway.registerMethod(method);
  const c = await client(gateway, connectParams({ scopes: ["operator.read"] }));
  const refused = errorOf(await c.request("app.one", { sessionKey: "a" }));
  assert.equal(refused.message, "missing scope: operator.write");
  assert.equal(loads(), 0);
  c.socket.close();
  await gateway.stop();
});

Deno.test("a lazy method words bad params exactly as the same descriptor registered eagerly", async () => {
  const gateway = await startGateway();
  gateway.registerMethod(greet("app.eager"));
  for (const method of lazyGreetings(["app.lazy"]).methods) gateway.registerMethod(method);
  const c = await client(gateway, connectParams({ scopes: ["operator.write"] }));
  for (const params of [{ sessionKey: "a", x: 1 }, {}, { count: 1.5, y: true }, "nope"]) {
    const eager = errorOf(await c.request("app.eager", params));
    const lazy = errorOf(await c.request("app.lazy", params));
    assert.equal(lazy.code, "INVALID_REQUEST");
    assert.equal(lazy.message, eager.message.replace("app.eager", "app.lazy"));
  }
  const unknown = errorOf(await c.request("app.lazy", { sessionKey: "a", x: 1 }));
  assert.match(unknown.message, /at root: unexpected property 'x'/);
  const missing = errorOf(await c.request("app.lazy", {}));
  assert.match(missing.message, /must have required property 'sessionKey'/);
  c.socket.close();
  await gateway.stop();
});

Deno.test("a lazy method that loads under another name or scope fails the call and is not installed", async () => {
  const gateway = await startGateway();
  gateway.registerMethod({
    name: "app.one",
    scope: "operator.read",
    load: () => Promise.resolve(greet("app.one")),
  });
  const c = await client(gateway, connectParams({ scopes: ["operator.write"] }));
  for (let call = 0; call < 2; call++) {
    const failed = await c.request("app.one", { sessionKey: "a" });
    assert.equal(failed.ok, false);
  }
  c.socket.close();
  await gateway.stop();
});

Deno.test("cron, loaded on first use: a job added after start is scheduled and runs", async () => {
  const docs = new MemoryJsonDocs();
  const gateway = await startGateway({ stores: { docs }, modules: [agentsModule(), cronModule()] });
  const c = await client(gateway, connectParams({ scopes: ["operator.admin"] }));
  assert.equal(await docs.read("cron/jobs.json"), undefined);
  const status = await c.request("cron.status", {});
  assert.equal((status.payload as { jobs: number }).jobs, 0);
  const refused = errorOf(await c.request("cron.add", { name: "x", bogus: 1 }));
  assert.match(refused.message, /^invalid cron\.add params: /);
  const added = await c.request("cron.add", {
    name: "soon",
    schedule: { kind: "every", everyMs: 50 },
    payload: { kind: "agentTurn", message: "ping" },
  });
  const jobId = (added.payload as { id: string }).id;
  // A wait budget, not a timing claim: under a loaded parallel suite the first run (which loads the agent
  // runtime) can take seconds.
  for (const deadline = Date.now() + 10_000; Date.now() < deadline;) {
    const runs = await c.request("cron.runs", { id: jobId });
    if ((runs.payload as { entries: unknown[] }).entries.length) break;
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
  const runs = await c.request("cron.runs", { id: jobId });
  assert.ok((runs.payload as { entries: unknown[] }).entries.length > 0, JSON.stringify(runs.payload));
  c.socket.close();
  await gateway.stop();
});
