// The published entry points: deno.json lists one per runtime and per store, each loads only what its runtime
// needs (the root no `node:` module and no `ws`), and the in-memory transport the root ships is a real
// Transport that clients reach through `fetch()` and `connect()`.
import assert from "node:assert/strict";
import { z } from "zod";
import {
  createGateway,
  defineMethod,
  type Gateway,
  type GatewayOptions,
  memoryTransport,
  openMemorySocket,
  type Transport,
} from "../mod.ts";
import { gatewayModules } from "../runner/gateway/modules.ts";
import { lazyModule } from "../runner/gateway/lazy-module.ts";
import { connectParams, TOKEN } from "./_helpers.ts";

const root = new URL("../", import.meta.url);
const manifest = async (name: string) => JSON.parse(await Deno.readTextFile(new URL(name, root)));

/** Every module specifier in an entry point's graph, static and dynamic imports alike. */
async function moduleGraph(entry: string): Promise<string[]> {
  const output = await new Deno.Command(Deno.execPath(), {
    args: ["info", "--json", "--config", new URL("deno.json", root).pathname, new URL(entry, root).pathname],
    stdout: "piped",
    stderr: "piped",
  }).output();
  assert.equal(output.code, 0, new TextDecoder().decode(output.stderr));
  const info = JSON.parse(new TextDecoder().decode(output.stdout)) as { modules: { specifier: string }[] };
  return info.modules.map((m) => m.specifier);
}

const isWs = (specifier: string) => /^npm:\/?ws@/.test(specifier);

Deno.test("deno.json publishes one entry point per runtime and per store", async () => {
  const exports = (await manifest("deno.json")).exports;
  assert.deepEqual(exports, {
    ".": "./mod.ts",
    "./deno": "./deno.ts",
    "./node": "./node.ts",
    "./stores/jsonl": "./stores/jsonl.ts",
    "./stores/redis": "./stores/redis.ts",
  });
});

Deno.test("the root entry point's module graph has no node: module and no ws", async () => {
  const graph = await moduleGraph("mod.ts");
  assert.ok(graph.some((s) => s.endsWith("/lib/transports/memory.ts")), "the graph was read");
  assert.deepEqual(graph.filter((s) => s.startsWith("node:") || isWs(s)), []);
  assert.ok(!graph.some((s) => s.endsWith("/lib/transports/deno.ts")), "the Deno transport is ./deno");
  assert.ok(!graph.some((s) => /^npm:\/?redis@/.test(s)), "the Redis client is ./stores/redis");
});

Deno.test("./deno loads neither ws nor node:http; ./node is where they are", async () => {
  const deno = await moduleGraph("deno.ts");
  // node:tls is the one exception, and only when gateway.tls is on: the engine imports its TLS listener
  // dynamically (Deno's own TLS connections cannot be dropped before their handshake completes).
  const engine = await Deno.readTextFile(new URL("lib/transports/deno/engine.ts", root));
  assert.ok(!/^import .*tls-listener/m.test(engine), "the TLS listener is imported only when TLS is on");
  assert.deepEqual(deno.filter((s) => (s.startsWith("node:") && s !== "node:tls") || isWs(s)), []);
  const node = await moduleGraph("node.ts");
  assert.ok(node.includes("node:http") && node.some(isWs), node.join("\n"));
});

Deno.test("each entry point exports what its docs name", async () => {
  const mod = await import("../mod.ts");
  for (
    const name of ["createGateway", "memoryTransport", "openMemorySocket", "loadConfig", "objectConfigSource"]
  ) {
    assert.equal(typeof (mod as Record<string, unknown>)[name], "function", name);
  }
  assert.ok(!("denoTransport" in mod) && !("nodeTransport" in mod), "transports have their own entry points");
  assert.equal(typeof (await import("../deno.ts")).denoTransport, "function");
  assert.equal(typeof (await import("../node.ts")).nodeTransport, "function");
  const stores = await import("../stores/jsonl.ts");
  assert.equal(typeof stores.jsonlStores, "function");
  assert.equal(typeof stores.fileJsonDocs, "function");
  assert.equal(typeof (await import("../stores/redis.ts")).redisStores, "function");
});

async function handshake(open: () => ReturnType<typeof openMemorySocket>) {
  const socket = open();
  assert.equal((await socket.next()).event, "connect.challenge");
  socket.send({ type: "req", id: "c", method: "connect", params: connectParams() });
  const hello = await socket.waitFor((f) => f.id === "c");
  assert.equal(hello.ok, true, JSON.stringify(hello));
  return socket;
}

async function started(transport: Transport, options: GatewayOptions = {}): Promise<Gateway> {
  const config = { gateway: { auth: { mode: "token" as const, token: TOKEN } } };
  const gateway = createGateway({ ...options, transport, config });
  gateway.registerRoute({ path: "/peer", handler: (_request, info) => new Response(info.remoteAddress) });
  await gateway.start();
  return gateway;
}

Deno.test("memory transport: listen() gives a listener; fetch() and connect() reach the gateway", async () => {
  const transport = memoryTransport();
  const gateway = await started(transport);
  try {
    const health = await transport.fetch("/health");
    assert.equal(health.status, 200);
    await health.body?.cancel();
    const peer = await transport.fetch(new Request("http://127.0.0.1/peer"), { remoteAddress: "10.0.0.9" });
    assert.equal(await peer.text(), "10.0.0.9");
    const socket = await handshake(() => transport.connect());
    socket.send({ type: "req", id: "h", method: "health", params: {} });
    assert.equal((await socket.waitFor((f) => f.id === "h")).ok, true);
    await handshake(() => openMemorySocket(gateway));
    await gateway.stop();
    assert.equal((await socket.closed).code, 1012);
  } finally {
    await gateway.stop();
  }
});

Deno.test("memory transport: refused before start and after stop, as a closed port is", async () => {
  const transport = memoryTransport();
  await assert.rejects(transport.fetch("/health"), /connection refused/);
  assert.throws(() => transport.connect(), /connection refused/);
  const gateway = await started(transport);
  await gateway.stop();
  await assert.rejects(transport.fetch("/health"), /connection refused/);
  assert.throws(() => transport.connect(), /connection refused/);
  const again = await started(transport);
  try {
    const health = await transport.fetch("/health");
    assert.equal(health.status, 200, "a restarted gateway listens again");
    await health.body?.cancel();
  } finally {
    await again.stop();
  }
});

Deno.test("memory transport: upgrade admission applies to connect()", async () => {
  const transport = memoryTransport();
  const gateway = await started(transport, { limits: { maxUnauthenticatedSockets: 1 } });
  try {
    transport.connect();
    assert.throws(() => transport.connect(), /HTTP 503/, "the pre-auth socket cap holds");
  } finally {
    await gateway.stop();
  }
});

Deno.test("the runner's gateway command loads no ws and no node: module (the Deno transport serves it)", async () => {
  const graph = await moduleGraph("runner/commands/gateway-run.ts");
  assert.ok(graph.some((s) => s.endsWith("/lib/transports/deno.ts")), "the graph was read");
  // node:tls only through the engine's TLS listener, imported when gateway.tls is on (see ./deno above).
  assert.deepEqual(graph.filter((s) => (s.startsWith("node:") && s !== "node:tls") || isWs(s)), []);
});

Deno.test("lazyModule: imported only when its section is on, at start or at the first reload that turns it on", async () => {
  let loads = 0;
  const feature = () =>
    lazyModule("feature", (config) => config.hooks?.enabled === true, () => {
      loads++;
      return Promise.resolve({
        name: "feature",
        setup: (context) =>
          context.registerMethod(defineMethod({
            name: "feature.ping",
            scope: "operator.read",
            params: z.strictObject({}),
            handler: () => ({ pong: true }),
          })),
      });
    });
  const auth = { gateway: { auth: { mode: "token" as const, token: TOKEN } } };
  const off = createGateway({ config: auth, modules: [feature()] });
  await off.start();
  try {
    assert.equal(loads, 0);
    await assert.rejects(off.call("feature.ping"), /unknown method/);
    assert.equal(off.updateConfig({ ...auth, hooks: { enabled: false } }).ok, true);
    assert.equal(loads, 0, "a reload that leaves it off loads nothing");
    assert.equal(
      off.updateConfig({ ...auth, hooks: { enabled: true, token: "hook-token-abcdef" } }).ok,
      true,
    );
    assert.deepEqual(await until(() => off.call("feature.ping").catch(() => undefined)), { pong: true });
    off.updateConfig({ ...auth, hooks: { enabled: false } });
    off.updateConfig({ ...auth, hooks: { enabled: true, token: "hook-token-abcdef" } });
    assert.equal(loads, 1, "loaded once");
  } finally {
    await off.stop();
  }
  const on = createGateway({
    config: { ...auth, hooks: { enabled: true, token: "x" } },
    modules: [feature()],
  });
  await on.start();
  try {
    assert.deepEqual(await on.call("feature.ping"), { pong: true }, "set up before start() resolves");
    assert.equal(loads, 2);
  } finally {
    await on.stop();
  }
});

Deno.test("runner modules: hooks answer 404 while off and serve /hooks/wake once enabled, at start or by reload", async () => {
  const dir = await Deno.makeTempDir({ prefix: "openclaw-lazy-" });
  const hooks = { enabled: true, token: "hook-token-abcdef" };
  const auth = { gateway: { auth: { mode: "token" as const, token: TOKEN } } };
  const wake = (gateway: Gateway) =>
    gateway.fetch(
      new Request("http://127.0.0.1/hooks/wake", {
        method: "POST",
        headers: { authorization: `Bearer ${hooks.token}`, "content-type": "application/json" },
        body: JSON.stringify({ text: "ping" }),
      }),
      { remoteAddress: "127.0.0.1" },
    );
  const modules = () => gatewayModules({ configPath: `${dir}/openclaw.json` });
  const gateway = createGateway({ config: auth, modules: modules() });
  try {
    await gateway.start();
    const off = await wake(gateway);
    assert.deepEqual([off.status, await off.text()], [404, "Not Found"]);
    assert.equal(gateway.updateConfig({ ...auth, hooks }).ok, true);
    const on = await until(async () => {
      const response = await wake(gateway);
      if (response.status === 200) return response;
      await response.body?.cancel();
    });
    assert.equal((await on.json()).ok, true);
    await gateway.stop();
    const atStart = createGateway({ config: { ...auth, hooks }, modules: modules() });
    await atStart.start();
    try {
      const response = await wake(atStart);
      assert.equal(response.status, 200, await response.clone().text());
      await response.body?.cancel();
    } finally {
      await atStart.stop();
    }
  } finally {
    await gateway.stop();
    await Deno.remove(dir, { recursive: true });
  }
});

/** Polls `probe` until it returns a value (2 s at most). */
async function until<T>(probe: () => Promise<T | undefined>): Promise<T> {
  const deadline = Date.now() + 2000;
  for (;;) {
    const value = await probe();
    if (value !== undefined) return value;
    if (Date.now() > deadline) throw new Error("timed out");
    await new Promise((r) => setTimeout(r, 5));
  }
}
