// Cross-replica defects, each proved at the gateway: keyed hook deliveries and keyed method calls keep
// separate caps; a `next-heartbeat` wake accepted by one replica reaches the heartbeat another runs; a
// gateway that stops leaves no listener on a bus the embedder shares; the bus has one home, `stores.bus`.
import assert from "node:assert/strict";
import { hooksModule } from "../lib/hooks/mod.ts";
import { createCore } from "../lib/gateway/core.ts";
import { MemoryIdempotencyStore } from "../lib/state/idempotency.ts";
import {
  agentsModule,
  type BusEvent,
  channelsModule,
  type ChatRequest,
  createGateway,
  type EventBus,
  type Gateway,
  InProcessEventBus,
  memoryStores,
  metricsModule,
  nodesModule,
  toolsModule,
} from "../mod.ts";
import { countingModule, countingTurns, HOOK_TOKEN } from "./_counting.ts";
import { client, connectParams, startGateway, TOKEN } from "./_helpers.ts";
import { scriptedModel } from "./_scripted_runtime.ts";

function postHook(gateway: Gateway, body: unknown, path = "/hooks/agent"): Promise<Response> {
  return gateway.fetch(
    new Request(`http://gw${path}`, {
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

async function until(check: () => boolean, what: string, timeoutMs = 10_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!check()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 10));
  }
}

Deno.test("a next-heartbeat wake accepted by either replica is taken by the heartbeat the other may run", async () => {
  const stores = memoryStores();
  // A model that acknowledges every heartbeat.
  const { provider, calls } = scriptedModel(() => "HEARTBEAT_OK");
  const replica = () => {
    const agents = agentsModule({ providers: { fake: provider } });
    return startGateway({
      stores,
      config: {
        gateway: { auth: { mode: "token", token: TOKEN } },
        agents: { defaults: { model: "fake/m", heartbeat: { every: "200ms", target: "none" } } },
        hooks: { enabled: true, token: HOOK_TOKEN },
      },
      modules: [agents, hooksModule({ agents })],
    });
  };
  const [a, b] = [await replica(), await replica()];
  try {
    // One of the two runs the heartbeat (the cluster singleton): a wake sent to each reaches it.
    for (const [gateway, text] of [[a, "disk almost full"], [b, "deploy finished"]] as const) {
      const response = await postHook(gateway, { text, mode: "next-heartbeat" }, "/hooks/wake");
      assert.deepEqual(await response.json(), { ok: true, mode: "next-heartbeat", queued: true });
    }
    const systemOf = (call: ChatRequest) =>
      call.messages.filter((m) => m.role === "system").map((m) => String(m.content)).join("\n");
    const prompts = () => calls.map(systemOf).join("\n");
    await until(
      () => prompts().includes("- disk almost full") && prompts().includes("- deploy finished"),
      "both wakes in a heartbeat turn's system prompt",
    );
    const carrying = calls.filter((call) => systemOf(call).includes("Pending system events:"));
    assert.equal(carrying.flatMap((call) => systemOf(call).match(/- disk almost full/g) ?? []).length, 1);
    assert.equal(await stores.systemEvents.take("agent:main:main").then((left) => left.length), 0);
  } finally {
    await a.stop();
    await b.stop();
  }
});

/** A shared bus that counts its listeners. */
function countingBus(): EventBus & { listeners(): number } {
  const inner = new InProcessEventBus();
  let listeners = 0;
  return {
    publish: (event: BusEvent) => inner.publish(event),
    subscribe(listener) {
      const unsubscribe = inner.subscribe(listener);
      listeners++;
      let done = false;
      return () => {
        if (!done) listeners--;
        done = true;
        unsubscribe();
      };
    },
    close: () => inner.close(),
    listeners: () => listeners,
  };
}

Deno.test("gateways started and stopped over one long-lived bus leave no listener on it", async () => {
  const bus = countingBus();
  for (let i = 0; i < 3; i++) {
    const agents = agentsModule();
    const tools = toolsModule({ agents });
    const gateway = await startGateway({
      stores: { bus },
      config: {
        gateway: { auth: { mode: "token", token: TOKEN } },
        agents: { defaults: { heartbeat: { every: "1h", target: "none" } } },
        hooks: { enabled: true, token: HOOK_TOKEN },
      },
      modules: [
        agents,
        tools,
        nodesModule({ tools }),
        hooksModule({ agents }),
        channelsModule({ agents }),
        metricsModule({ agents }),
      ],
    });
    assert.ok(bus.listeners() > 0);
    // Events reach a socket through the fan-out, and a wait holds a listener only while it waits.
    const watcher = await client(gateway, connectParams({ scopes: ["operator.read", "operator.write"] }));
    bus.publish({ event: "test.ping", payload: { i } });
    await watcher.socket.waitFor((frame) => frame.event === "test.ping");
    await gateway.call("agent.wait", { runId: "no-such-run", timeoutMs: 10 });
    await gateway.stop();
    assert.equal(bus.listeners(), 0, `gateway ${i} left listeners on the shared bus`);
  }
  await bus.close();
});

Deno.test("a restarted gateway delivers events to its sockets again; after a failed start, stop() leaves no listener", async () => {
  const bus = countingBus();
  const gateway = createGateway({
    config: { gateway: { auth: { mode: "token", token: TOKEN } } },
    stores: { bus },
  });
  for (let round = 0; round < 2; round++) {
    await gateway.start();
    const watcher = await client(gateway);
    bus.publish({ event: "test.ping", payload: { round } });
    assert.deepEqual((await watcher.socket.waitFor((f) => f.event === "test.ping")).payload, { round });
    await gateway.stop();
    assert.equal(bus.listeners(), 0);
  }
  // Module setup ran (the fan-out subscribed), then writing the own presence row failed.
  const presence = memoryStores().presence;
  const refused = createGateway({
    config: { gateway: { auth: { mode: "token", token: TOKEN } } },
    stores: {
      bus,
      presence: { ...presence, upsert: () => Promise.reject(new Error("presence store down")) },
    },
  });
  await assert.rejects(refused.start(), /presence store down/);
  // The failed start keeps its modules for a retry; stop() gives back what their setup took.
  await refused.stop();
  assert.equal(bus.listeners(), 0);
  await bus.close();
});

Deno.test("the bus has one home, stores.bus: the core keeps no copy; gateway.bus and context.bus are it", async () => {
  const core = createCore({});
  // @ts-expect-error the core has no second path to the bus
  assert.equal(core.bus, undefined);
  const stores = memoryStores();
  let seen: EventBus | undefined;
  const gateway = createGateway({
    stores,
    modules: [{ name: "peek", setup: (ctx) => void (seen = ctx.bus) }],
  });
  await gateway.call("health");
  assert.equal(gateway.bus, stores.bus);
  assert.equal(seen, stores.bus);
  await stores.bus.close();
});
