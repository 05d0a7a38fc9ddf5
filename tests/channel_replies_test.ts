// Replies of channel and hook turns: answered once durable, retried when the service refuses them for a
// moment, sent for turns still running when the gateway stops, and sent for embedder-supplied turns.
import assert from "node:assert/strict";
import { agentsModule } from "../lib/agents/mod.ts";
import { GatewayError } from "../lib/errors.ts";
import { hooksModule } from "../lib/hooks/mod.ts";
import { memoryStores } from "../lib/state/stores.ts";
import { MemoryTurnQueue, type QueuedTurn } from "../lib/state/turn-queue.ts";
import { createGateway } from "../mod.ts";
import { TOKEN } from "./_helpers.ts";
import { recordingProvider } from "./_scripted_runtime.ts";

const HOOK_TOKEN = "hook-token-0123456789";

async function until(check: () => boolean, ms: number, what: string): Promise<void> {
  const end = Date.now() + ms;
  while (!check()) {
    assert.ok(Date.now() < end, `timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 20));
  }
}

Deno.test("/hooks/wake with mode now whose input could not be saved answers the retryable 503", async () => {
  const held = Promise.withResolvers<void>();
  let calls = 0;
  const model = recordingProvider(() => ++calls === 1 ? held.promise : Promise.resolve());
  const agents = agentsModule({ providers: { rec: model.provider } });
  const turnQueue = new (class extends MemoryTurnQueue {
    override enqueue(_turn: QueuedTurn): Promise<void> {
      return Promise.reject(new GatewayError("UNAVAILABLE", "redis is unreachable", { retryable: true }));
    }
  })();
  const gateway = createGateway({
    config: {
      gateway: { auth: { mode: "token", token: TOKEN } },
      agents: { defaults: { model: "rec/m" } },
      hooks: { enabled: true, token: HOOK_TOKEN, defaultSessionKey: "main" },
    },
    stores: { ...memoryStores(), turnQueue },
    modules: [agents, hooksModule({ agents })],
  });
  await gateway.start();
  const hook = (path: string, body: unknown) =>
    gateway.fetch(
      new Request(`http://gw/hooks/${path}`, {
        method: "POST",
        headers: { authorization: `Bearer ${HOOK_TOKEN}`, "content-type": "application/json" },
        body: JSON.stringify(body),
      }),
    );
  try {
    const first = await hook("agent", { message: "hold" });
    assert.equal(first.status, 200);
    await first.body?.cancel();
    await until(() => calls === 1, 5_000, "the first turn to reach the model");
    // The main session is busy: the wake's turn waits, and its queue write fails.
    const response = await hook("wake", { text: "disk almost full", mode: "now" });
    assert.equal(response.status, 503);
    const body = await response.json();
    assert.equal(body.ok, false);
    assert.match(String(body.error), /redis is unreachable/);
  } finally {
    held.resolve();
    await gateway.stop();
  }
});
