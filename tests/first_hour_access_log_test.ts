// The access log in-process: one info record per HTTP request with the auth outcome, the path without its
// query and bounded in length; one per WebSocket disconnect; none when logging.accessLog is false.
import assert from "node:assert/strict";
import { agentsModule } from "../lib/agents/mod.ts";
import { MemoryLogSink } from "../lib/log/logger.ts";
import { openAiHttpModule } from "../lib/http/openai/openai-module.ts";
import { createGateway, type GatewayConfig, openMemorySocket } from "../mod.ts";
import { TOKEN } from "./_helpers.ts";

async function gatewayWithLog(extra: GatewayConfig = {}) {
  const sink = new MemoryLogSink();
  const agents = agentsModule();
  const gateway = createGateway({
    config: {
      gateway: {
        auth: { mode: "token", token: TOKEN },
        http: { endpoints: { chatCompletions: { enabled: true } } },
      },
      ...extra,
    },
    logSinks: [sink],
    modules: [agents, openAiHttpModule({ agents })],
  });
  await gateway.start();
  return { gateway, access: () => sink.records.filter((r) => r.subsystem === "access") };
}

Deno.test("access log: method, bounded path without query, status, duration and auth outcome; never the token", async () => {
  const { gateway, access } = await gatewayWithLog();
  try {
    const ok = await gateway.fetch(
      new Request(`http://127.0.0.1/v1/models?token=${TOKEN}`, {
        headers: { authorization: `Bearer ${TOKEN}` },
      }),
    );
    await ok.body?.cancel();
    const refused = await gateway.fetch(
      new Request("http://127.0.0.1/v1/models", { headers: { authorization: "Bearer x" } }),
    );
    await refused.body?.cancel();
    const long = await gateway.fetch(new Request(`http://127.0.0.1/${"a".repeat(5000)}`));
    await long.body?.cancel();
    const [first, second, third] = access();
    assert.deepEqual(
      { ...first, time: undefined, durationMs: undefined },
      {
        time: undefined,
        level: "info",
        subsystem: "access",
        msg: "http request",
        method: "GET",
        path: "/v1/models",
        status: 200,
        durationMs: undefined,
        auth: "ok:token",
      },
    );
    assert.equal(typeof first.durationMs, "number");
    assert.equal(second.auth, "refused");
    assert.equal(second.status, 401);
    assert.equal(third.auth, "none");
    assert.equal((third.path as string).length, 257);
    assert.ok(!JSON.stringify(access()).includes(TOKEN));
  } finally {
    await gateway.stop();
  }
});

Deno.test("access log: a WebSocket disconnect carries code, reason, side and duration; accessLog false silences it", async () => {
  const { gateway, access } = await gatewayWithLog();
  try {
    const socket = openMemorySocket(gateway);
    await socket.next();
    socket.close(4000, "client went away");
    const record = access().find((r) => r.msg === "client disconnected");
    assert.ok(record, JSON.stringify(access()));
    assert.equal(record.authenticated, false);
    assert.equal(typeof record.durationMs, "number");
  } finally {
    await gateway.stop();
  }
  const quiet = await gatewayWithLog({ logging: { accessLog: false } });
  try {
    const res = await quiet.gateway.fetch(new Request("http://127.0.0.1/health"));
    await res.body?.cancel();
    assert.deepEqual(quiet.access(), []);
  } finally {
    await quiet.gateway.stop();
  }
});
