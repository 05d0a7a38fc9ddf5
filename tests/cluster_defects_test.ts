// Cross-replica defects, each proved at the gateway: keyed hook deliveries and keyed method calls keep
// separate caps.
import assert from "node:assert/strict";
import type { AgentTurns } from "../lib/channels/turns.ts";
import { hooksModule } from "../lib/hooks/mod.ts";
import { MemoryIdempotencyStore } from "../lib/state/idempotency.ts";
import { createGateway, type Gateway, type GatewayModule } from "../mod.ts";
import { TOKEN } from "./_helpers.ts";

const HOOK_TOKEN = "hook-token-0123456789";

/** Turns that start nothing but a counted run id. */
function countingTurns(runs: { n: number }): AgentTurns {
  return {
    start: (request) => ({
      runId: `run-${++runs.n}`,
      agentId: "main",
      sessionKey: request.sessionKey ?? "main",
      done: new Promise(() => {}),
    }),
    hasAgent: (id) => id === "main",
    defaultAgentId: () => "main",
  };
}

/** A method that counts how often it really ran. */
function countingModule(runs: { n: number }): GatewayModule {
  return {
    name: "counting",
    setup(ctx) {
      ctx.registerMethod("test.count", "operator.write", () => ({ n: ++runs.n }));
    },
  };
}

function postHook(gateway: Gateway, body: unknown): Promise<Response> {
  return gateway.fetch(
    new Request("http://gw/hooks/agent", {
      method: "POST",
      headers: { authorization: `Bearer ${HOOK_TOKEN}`, "content-type": "application/json" },
      body: JSON.stringify(body),
    }),
  );
}

Deno.test("a flood of keyed hook deliveries never evicts a keyed method call's outcome, nor the reverse", async () => {
  const cap = 5;
  const turns = { n: 0 };
  const calls = { n: 0 };
  const gateway = createGateway({
    config: {
      gateway: { auth: { mode: "token", token: TOKEN } },
      hooks: { enabled: true, token: HOOK_TOKEN },
    },
    stores: { idempotency: new MemoryIdempotencyStore(() => Date.now(), undefined, cap) },
    modules: [hooksModule({ turns: countingTurns(turns) }), countingModule(calls)],
  });
  await gateway.start();
  try {
    assert.deepEqual(await gateway.call("test.count", { idempotencyKey: "method-1" }), { n: 1 });
    for (let i = 0; i < cap * 3; i++) {
      await (await postHook(gateway, { message: "flood", idempotencyKey: `flood-${i}` })).body?.cancel();
    }
    assert.deepEqual(await gateway.call("test.count", { idempotencyKey: "method-1" }), { n: 1 });
    assert.equal(calls.n, 1, "the method's retry ran again: the hook flood evicted its outcome");
    const first = await (await postHook(gateway, { message: "hi", idempotencyKey: "hook-1" })).json();
    for (let i = 0; i < cap * 3; i++) await gateway.call("test.count", { idempotencyKey: `flood-${i}` });
    const retried = await (await postHook(gateway, { message: "hi", idempotencyKey: "hook-1" })).json();
    assert.deepEqual(
      retried,
      first,
      "the hook's retry started a new run: the method flood evicted its outcome",
    );
  } finally {
    await gateway.stop();
  }
});
