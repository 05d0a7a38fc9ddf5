/**
 * A last review of the run-store, channel and auth changes: each test failed before its fix. An unsaved run
 * end (a failed attempt's) answers no `agent.wait` and gives way to the retry whatever the replicas' clocks;
 * a chat over its queue limit is refused, not asked for again at every other chat's expense; and a device
 * token copied off its device opens no HTTP route.
 */
import assert from "node:assert/strict";
import { agentsModule } from "../lib/agents/mod.ts";
import { RunLedger } from "../lib/agents/run-ledger.ts";
import { channelsModule } from "../lib/channels/mod.ts";
import { createLogger, MemoryLogSink } from "../lib/log/logger.ts";
import { toolsModule } from "../lib/tools/mod.ts";
import { controlUiModule } from "../lib/ui/mod.ts";
import { memoryStores } from "../lib/state/stores.ts";
import type { StoredRun } from "../lib/state/runs.ts";
import { createGateway, type GatewayConfig } from "../mod.ts";
import { connectDevice, makeDevice } from "./_device_identity.ts";
import { pollingTelegram, startFakeTelegram } from "./_fake_telegram.ts";
import { pollUntil, startGateway, TOKEN } from "./_helpers.ts";
import { recordingProvider } from "./_scripted_runtime.ts";

const logger = createLogger({ sinks: [new MemoryLogSink()] });

function attempt(acceptedAt: number): StoredRun {
  return { runId: "key-1", sessionKey: "agent:main:main", agentId: "main", acceptedAt, state: "running" };
}

Deno.test("finding 1: a failed attempt's late unsaved end does not answer agent.wait for the retry that replaced it", async () => {
  const stores = memoryStores();
  const ledger = new RunLedger(stores, logger);
  // The retry (same run id = idempotency key, accepted later) runs; the store holds its record.
  await stores.runs.put(attempt(2_000), 60_000);
  const waiting = ledger.end("key-1", 300);
  // The first attempt, whose input was never saved, winds down late: its end is "of an earlier attempt".
  await ledger.publishEnd(attempt(1_000), {
    runId: "key-1",
    sessionKey: "agent:main:main",
    sessionId: "",
    agentId: "main",
    status: "error",
    startedAt: 1_000,
    endedAt: 1_500,
    error: { code: "UNAVAILABLE", message: "internal error; see the gateway log" },
  }, true);
  // The store kept the retry's record as the contract says ...
  assert.deepEqual((await stores.runs.get("key-1"))?.end, undefined);
  // ... but the bus told every waiter the run ended with the failed attempt's error.
  assert.deepEqual(
    await waiting,
    undefined,
    "agent.wait for the running retry must not hear the unsaved end",
  );
});

Deno.test("finding 1b: an unsaved end in the store does not answer agent.wait (the retry is on its way)", async () => {
  const stores = memoryStores();
  const ledger = new RunLedger(stores, logger);
  await stores.runs.put({
    ...attempt(1_000),
    state: "error",
    end: { status: "error", startedAt: 1_000, endedAt: 1_500, unsaved: true },
  }, 60_000);
  assert.deepEqual(await ledger.end("key-1", 200), undefined);
});

Deno.test("finding 2: a retry accepted on a replica whose clock is a little behind still replaces the unsaved end", async () => {
  const stores = memoryStores();
  await stores.runs.put({
    ...attempt(10_000),
    state: "error",
    end: { status: "error", startedAt: 10_000, endedAt: 10_005, unsaved: true },
  }, 60_000);
  // The retry lands on another replica whose clock runs 50 ms behind the first's: its acceptedAt is lower.
  await stores.runs.put(attempt(9_990), 60_000);
  const stored = await stores.runs.get("key-1");
  assert.equal(stored?.end, undefined, "the retry's running record must replace the unsaved end");
});

Deno.test("finding 3: one chat over its queue limit does not slow down every other chat's messages", async () => {
  const api = startFakeTelegram();
  const held = Promise.withResolvers<void>();
  let calls = 0;
  const model = recordingProvider(() => ++calls === 1 ? held.promise : Promise.resolve());
  const agents = agentsModule({ providers: { rec: model.provider } });
  const gateway = createGateway({
    config: {
      gateway: { auth: { mode: "token", token: TOKEN }, limits: { maxQueuedRunsPerConnection: 1 } },
      agents: { defaults: { model: "rec/m" } },
      channels: { telegram: pollingTelegram(api.url, { allowFrom: ["7", "8"] }) },
    } as GatewayConfig,
    stores: memoryStores(),
    modules: [agents, channelsModule({ agents })],
  });
  await gateway.start();
  try {
    // Chat 7 has one turn running and one waiting: its third message is refused as "retry later".
    api.push("hold", 7);
    await pollUntil(() => calls === 1, 5_000, "chat 7's first turn to reach the model");
    api.push("waits", 7);
    api.push("over the limit", 7);
    const polls = () => api.calls.filter((c) => c.method === "getUpdates").length;
    const before = polls();
    // Polling now holds its offset at chat 7's message and backs off (1 s, 2 s, 4 s, ... up to 30 s).
    await pollUntil(() => polls() >= before + 3, 10_000, "the poller to ask again twice");
    const sent = Date.now();
    api.push("hello", 8);
    await pollUntil(() => calls === 2, 10_000, "chat 8's turn to reach the model");
    const waited = Date.now() - sent;
    assert.ok(waited < 1_500, `chat 8's message waited ${waited} ms behind chat 7's backlog`);
  } finally {
    held.resolve();
    await gateway.stop();
    await api.close();
  }
});

Deno.test("finding 4: an operator device token copied off its device admits nothing without the device's key, over HTTP too", async () => {
  const agents = agentsModule();
  const gateway = await startGateway({
    config: { gateway: { auth: { mode: "token", token: TOKEN } } },
    modules: [agents, toolsModule({ agents }), controlUiModule()],
  });
  try {
    const device = await makeDevice();
    const { socket, response } = await connectDevice(gateway, device);
    assert.equal(response.ok, true, JSON.stringify(response.error));
    socket.close();
    const token = (response.payload as { auth: { deviceToken: string } }).auth.deviceToken;
    // A LAN host that read the token (pairing.json, a plain ws:// connect) and has no private key.
    const invoke = async (bearer: string) => {
      const answer = await gateway.fetch(
        new Request("http://gw/tools/invoke", {
          method: "POST",
          headers: { authorization: `Bearer ${bearer}`, "content-type": "application/json" },
          body: JSON.stringify({ tool: "no-such-tool", args: {} }),
        }),
        { remoteAddress: "192.168.1.20" },
      );
      await answer.body?.cancel();
      return answer.status;
    };
    assert.equal(await invoke("not-a-credential"), 401, "control: a wrong bearer is refused");
    assert.equal(await invoke(token), 401, "the bare device token is refused as on a socket");
    // Only the Control UI's own read takes it (the reference UI fetches its config with it once paired).
    const config = await gateway.fetch(
      new Request("http://gw/control-ui-config.json", { headers: { authorization: `Bearer ${token}` } }),
      { remoteAddress: "192.168.1.20" },
    );
    await config.body?.cancel();
    assert.equal(config.status, 200);
  } finally {
    await gateway.stop();
  }
});
