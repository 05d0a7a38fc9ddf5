// The Prometheus endpoint over a real loopback socket: auth, exposition format, counters that move.
import assert from "node:assert/strict";
import { agentsModule } from "../lib/agents/mod.ts";
import {
  metricsModule,
  MetricsRegistry,
  parseExposition,
  PROMETHEUS_PATH,
  type Sample,
} from "../lib/metrics/mod.ts";
import { createGateway } from "../mod.ts";
import { denoTransport } from "../deno.ts";
import { client, connect, connectParams, TOKEN } from "./_helpers.ts";

function value(samples: Sample[], name: string, labels: Record<string, string> = {}): number {
  return samples
    .filter((s) => s.name === name && Object.entries(labels).every(([k, v]) => s.labels[k] === v))
    .reduce((sum, s) => sum + s.value, 0);
}

async function scrape(base: string, token = TOKEN): Promise<{ response: Response; samples: Sample[] }> {
  const response = await fetch(`${base}${PROMETHEUS_PATH}`, {
    headers: { Authorization: `Bearer ${token}` },
  });
  const text = await response.text();
  return { response, samples: response.ok ? parseExposition(text) : [] };
}

Deno.test("metrics: scrape needs gateway auth; counters move after a chat and failed auth", async () => {
  const agents = agentsModule();
  const metrics = metricsModule({ agents, memoryUsage: () => ({ rss: 1, heapUsed: 2, heapTotal: 3 }) });
  const gateway = createGateway({
    config: { gateway: { auth: { mode: "token", token: TOKEN } } },
    transport: denoTransport(),
    hostname: "127.0.0.1",
    port: 0,
    modules: [agents, metrics],
  });
  const address = (await gateway.start())!;
  const base = `http://127.0.0.1:${address.port}`;
  try {
    const anonymous = await fetch(`${base}${PROMETHEUS_PATH}`);
    await anonymous.body?.cancel();
    assert.equal(anonymous.status, 401, "no anonymous scrapes");

    const before = await scrape(base);
    assert.equal(before.response.status, 200);
    assert.equal(before.response.headers.get("content-type"), "text/plain; version=0.0.4; charset=utf-8");

    const c = await client(gateway);
    const sent = await c.request("chat.send", { sessionKey: "main", message: "hi", idempotencyKey: "m-1" });
    assert.equal(sent.ok, true);
    await c.socket.waitFor((f) => f.event === "chat" && (f.payload as { state: string }).state === "final");
    await c.request("no.such.method");
    const refused = await connect(gateway, connectParams({ auth: { token: "wrong-token" } }));
    assert.equal(refused.response.ok, false);
    const wrongHttp = await fetch(`${base}${PROMETHEUS_PATH}`, { headers: { Authorization: "Bearer nope" } });
    await wrongHttp.body?.cancel();
    assert.equal(wrongHttp.status, 401);

    const { samples } = await scrape(base);
    assert.equal(value(samples, "openclaw_gateway_rpc_total", { method: "chat.send", outcome: "ok" }), 1);
    assert.equal(value(samples, "openclaw_gateway_rpc_total", { method: "unknown", outcome: "error" }), 1);
    assert.equal(value(samples, "openclaw_gateway_rpc_duration_seconds_count", { method: "chat.send" }), 1);
    assert.equal(value(samples, "openclaw_run_completed_total", { agent: "main", outcome: "ok" }), 1);
    assert.ok(value(samples, "openclaw_model_tokens_total", { type: "output" }) > 0);
    assert.equal(value(samples, "openclaw_gateway_auth_failures_total", { transport: "ws" }), 1);
    assert.equal(
      value(samples, "openclaw_gateway_auth_failures_total", { transport: "http" }) -
        value(before.samples, "openclaw_gateway_auth_failures_total", { transport: "http" }),
      1,
    );
    assert.equal(value(samples, "openclaw_gateway_connections"), 1, "the chat client is the one open socket");
    assert.equal(value(samples, "openclaw_gateway_connections_total", { stage: "accepted" }), 2);
    assert.ok(
      value(samples, "openclaw_gateway_http_requests_total", { route: PROMETHEUS_PATH, status: "200" }) >= 1,
    );
    assert.equal(value(samples, "openclaw_memory_rss_bytes"), 1);
    assert.ok(samples.some((s) => s.name === "openclaw_gateway_uptime_seconds"));
    c.socket.close();
  } finally {
    await gateway.stop();
  }
});

Deno.test("metrics: the registry caps series and counts what it drops; labels are escaped", () => {
  const registry = new MetricsRegistry(3);
  const counter = registry.counter("t_total", "test", ["k"]);
  counter.inc({ k: 'a"b\\c\nd' });
  counter.inc({ k: "x" });
  counter.inc({ k: "y" });
  counter.inc({ k: "z" });
  const samples = parseExposition(registry.render());
  assert.deepEqual(samples.filter((s) => s.name === "t_total").map((s) => s.labels.k), [
    'a"b\\c\nd',
    "x",
    "y",
  ]);
  assert.equal(value(samples, "openclaw_prometheus_series_dropped_total"), 1);
  const roomy = new MetricsRegistry();
  roomy.histogram("h_seconds", "test", [], [0.1, 1]).observe({}, 0.5);
  const buckets = parseExposition(roomy.render()).filter((s) => s.name === "h_seconds_bucket");
  assert.deepEqual(buckets.map((s) => [s.labels.le, s.value]), [["0.1", 0], ["1", 1], ["+Inf", 1]]);
});
