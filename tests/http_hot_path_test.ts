// The HTTP hot path reads request headers with `has`/`get` (never iteration) and carries its auth outcome
// and response marks on the request and response objects. These pin what that must not change, on every
// engine: each of the forwarding headers from a loopback peer that is no trusted proxy still gets
// 403 proxy_attribution_required; an Origin still takes a loopback caller out of the rate-limit exemption;
// the access-log line keeps its fields and their order; builder responses keep their security headers and
// are still checked for secrets.
import assert from "node:assert/strict";
import { agentsModule } from "../lib/agents/mod.ts";
import { openAiHttpModule } from "../lib/http/openai/openai-module.ts";
import { jsonResponse } from "../lib/http/response.ts";
import { logLine, MemoryLogSink } from "../lib/log/logger.ts";
import { createGateway, type GatewayConfig, type GatewayModule } from "../mod.ts";
import { denoTransport } from "../deno.ts";
import { TOKEN } from "./_helpers.ts";

/** Every header name client-address.ts counts as proxy evidence. */
const FORWARDING = [
  "forwarded",
  "x-forwarded-for",
  "x-real-ip",
  ...[
    "host",
    "proto",
    "port",
    "prefix",
    "server",
    "ssl",
    "scheme",
    "uri",
    "client-cert",
    "user",
    "email",
    "preferred-username",
    "groups",
    "access-token",
  ].map((suffix) => `x-forwarded-${suffix}`),
];

const ENGINES = ["native", "hardened", "in-process"] as const;
type Engine = typeof ENGINES[number];

/** A route whose answer echoes a secret, to show builder responses are still redacted. */
const echo: GatewayModule = {
  name: "echo",
  setup(context) {
    context.registerRoute({
      path: "/echo",
      auth: "gateway",
      handler: () => jsonResponse({ echoed: `key=${TOKEN}` }),
    });
  },
};

async function gatewayOn(engine: Engine, extra: GatewayConfig = {}) {
  const sink = new MemoryLogSink();
  const agents = agentsModule();
  const gateway = createGateway({
    config: {
      ...extra,
      gateway: {
        auth: { mode: "token", token: TOKEN, ...extra.gateway?.auth },
        http: { endpoints: { chatCompletions: { enabled: true } } },
      },
    },
    logSinks: [sink],
    modules: [agents, openAiHttpModule({ agents }), echo],
    ...(engine === "in-process"
      ? {}
      : { transport: denoTransport({ engine }), hostname: "127.0.0.1", port: 0 }),
  });
  const started = await gateway.start();
  const call = (path: string, headers: Record<string, string>) =>
    engine === "in-process"
      ? gateway.fetch(new Request(`http://127.0.0.1${path}`, { headers }), { remoteAddress: "127.0.0.1" })
      : fetch(`http://127.0.0.1:${started!.port}${path}`, { headers });
  return {
    call,
    access: () => sink.records.filter((r) => r.subsystem === "access"),
    [Symbol.asyncDispose]: () => gateway.stop(),
  };
}

for (const engine of ENGINES) {
  Deno.test(`${engine}: each forwarding header from an untrusted loopback peer is refused; none is admitted`, async () => {
    await using gw = await gatewayOn(engine);
    const auth = { authorization: `Bearer ${TOKEN}` };
    for (const name of FORWARDING) {
      // Mixed case on the wire: header names are case-insensitive.
      const response = await gw.call("/v1/models", { ...auth, [name.toUpperCase()]: "203.0.113.9" });
      assert.equal(response.status, 403, name);
      assert.equal((await response.json()).error.type, "proxy_attribution_required", name);
    }
    const plain = await gw.call("/v1/models", auth);
    assert.equal(plain.status, 200);
    assert.equal(plain.headers.get("x-content-type-options"), "nosniff");
    assert.equal(plain.headers.get("referrer-policy"), "no-referrer");
    assert.equal((await plain.json()).object, "list");
  });

  Deno.test(`${engine}: an Origin makes a loopback caller count failures; without one it stays exempt`, async () => {
    await using gw = await gatewayOn(engine, {
      gateway: { auth: { rateLimit: { maxAttempts: 2, windowMs: 60_000, lockoutMs: 60_000 } } },
    });
    const wrong = { authorization: "Bearer wrong-token-0000" };
    const statuses = async (headers: Record<string, string>) => {
      const seen: number[] = [];
      for (let i = 0; i < 4; i++) {
        const response = await gw.call("/v1/models", headers);
        await response.body?.cancel();
        seen.push(response.status);
      }
      return seen;
    };
    assert.deepEqual(await statuses(wrong), [401, 401, 401, 401]);
    assert.deepEqual(await statuses({ ...wrong, origin: "http://127.0.0.1:1" }), [401, 401, 429, 429]);
  });

  Deno.test(`${engine}: the access-log line keeps its fields in their order; builder answers stay redacted`, async () => {
    await using gw = await gatewayOn(engine);
    const ok = await gw.call("/v1/models?x=1", { authorization: `Bearer ${TOKEN}` });
    await ok.body?.cancel();
    const echoed = await gw.call("/echo", { authorization: `Bearer ${TOKEN}` });
    const text = await echoed.text();
    assert.ok(!text.includes(TOKEN), text);
    assert.equal(echoed.headers.get("x-content-type-options"), "nosniff");
    const [first, second] = gw.access();
    assert.deepEqual(Object.keys(JSON.parse(logLine(first))), [
      "method",
      "path",
      "status",
      "durationMs",
      "auth",
      "time",
      "level",
      "subsystem",
      "msg",
      "message",
    ]);
    assert.deepEqual(
      { method: first.method, path: first.path, status: first.status, auth: first.auth, msg: first.msg },
      { method: "GET", path: "/v1/models", status: 200, auth: "ok:token", msg: "http request" },
    );
    assert.equal(second.path, "/echo");
    assert.equal(second.auth, "ok:token");
  });
}
