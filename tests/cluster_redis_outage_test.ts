// Issue 16: "Redis down: new turns fail fast with a retryable UNAVAILABLE naming Redis, the replica stays up
// and serves what needs no shared state". Two ways Redis goes away, with real `openclaw gateway` processes
// and a real redis-server: refusing connections (killed), and answering nothing on open connections (frozen
// with SIGSTOP, as a partition or a hung host looks). Written by the issue 16 audit.
import assert from "node:assert/strict";
import { join } from "node:path";
import { connectParams } from "./_helpers.ts";
import { handshake } from "./_evidence_clients.ts";
import { untilListening } from "./_daemon.ts";
import { IGNORE_WITHOUT_REDIS, REDIS_SERVER, startDurableRedisServer } from "./_redis_server.ts";
import { freePort, runnerEnv, spawnRunner, tempHome } from "./_runner_process.ts";

const TOKEN = "outage-token-0123456789";
const ignore = IGNORE_WITHOUT_REDIS;

/** One `gateway run` replica on `redisUrl` in a home of its own, with the built-in scripted model. */
async function replica(redisUrl: string) {
  const home = await tempHome();
  const port = freePort();
  const config = {
    gateway: { mode: "local", port, auth: { token: TOKEN }, cluster: { keyPrefix: "outage:" } },
    agents: { defaults: { model: { primary: "local/scripted-1" } } },
  };
  await Deno.writeTextFile(join(home.state, "openclaw.json"), JSON.stringify(config));
  const proc = spawnRunner(["gateway"], runnerEnv(home.home, { OPENCLAW_REDIS_URL: redisUrl }));
  return { port, proc, home };
}

// Issue 16: "Redis down: ... the replica stays up and serves what needs no shared state". A local operator
// tool (loopback, shared token, no device, no Origin) needs no lockout check (docs/scale-out.md,
// "Round trips"), yet its connect is refused because hello-ok's presence snapshot must be read from Redis;
// so `openclaw status` / `openclaw gateway status` report the gateway "unreachable" instead of showing
// `cluster.redis.connected: false`.
Deno.test({
  name: "with Redis down, a local operator still connects and status shows redis disconnected",
  ignore,
  sanitizeResources: false,
  sanitizeOps: false,
  async fn() {
    const dir = await Deno.makeTempDir({ prefix: "audit16-redis-" });
    const redisPort = freePort();
    const redis = await startDurableRedisServer(dir, redisPort);
    const gw = await replica(redis.url);
    try {
      await gw.proc.waitFor(/gateway listening/, 90_000);
      const url = `ws://127.0.0.1:${gw.port}`;
      const before = await handshake(url, connectParams({ auth: { token: TOKEN } }));
      assert.equal(before.response.ok, true, JSON.stringify(before.response));
      before.session.ws.close();

      await redis.kill();
      await new Promise((r) => setTimeout(r, 1_500));
      // The Redis block of `status` (its URL) is shown to admins only, as to `openclaw status`.
      const during = await handshake(
        url,
        connectParams({ auth: { token: TOKEN }, scopes: ["operator.admin"] }),
      );
      try {
        assert.equal(during.response.ok, true, `local connect refused: ${JSON.stringify(during.response)}`);
        const status = await during.session.request("status", {}, 10_000);
        assert.equal(status.ok, true, JSON.stringify(status));
        const cluster = (status.payload as { cluster: { redis: { connected: boolean } } }).cluster;
        assert.equal(cluster.redis.connected, false);
      } finally {
        during.session.ws.close();
      }
    } finally {
      await gw.proc.stop("SIGKILL").catch(() => {});
      await gw.home[Symbol.asyncDispose]();
      await redis.kill();
      await Deno.remove(dir, { recursive: true });
    }
  },
});

// Issue 16: "Redis down: new turns fail fast with a retryable UNAVAILABLE naming Redis, the replica ... serves
// what needs no shared state". A Redis that stops answering without closing the connection (a network
// partition, a hung or frozen server; SIGSTOP here) is not noticed by the command path: node-redis has no
// command timeout, so `chat.send` and even `health` on an open socket get no answer at all (measured: none in
// 60 s), and a new connect gets no hello-ok. Only the change feed's PING notices (3 s), and nothing uses
// that to fail commands.
Deno.test({
  name: "with Redis frozen (no RST), chat.send fails fast with UNAVAILABLE and health still answers",
  ignore,
  sanitizeResources: false,
  sanitizeOps: false,
  async fn() {
    const dir = await Deno.makeTempDir({ prefix: "audit16-frozen-" });
    const redisPort = freePort();
    const server = new Deno.Command(REDIS_SERVER!, {
      args: [
        "--port",
        String(redisPort),
        "--bind",
        "127.0.0.1",
        "--dir",
        dir,
        "--save",
        "",
        "--appendonly",
        "no",
      ],
      stdin: "null",
      stdout: "null",
      stderr: "null",
    }).spawn();
    await untilListening("redis-server", redisPort, () => server.kill("SIGKILL"));
    const gw = await replica(`redis://127.0.0.1:${redisPort}`);
    try {
      await gw.proc.waitFor(/gateway listening/, 90_000);
      const { session, response } = await handshake(
        `ws://127.0.0.1:${gw.port}`,
        connectParams({ auth: { token: TOKEN }, scopes: ["operator.admin"] }),
      );
      assert.equal(response.ok, true, JSON.stringify(response));
      try {
        server.kill("SIGSTOP");
        const [sent, health] = await Promise.all([
          session.request(
            "chat.send",
            { sessionKey: "main", message: "frozen", idempotencyKey: "fz-1" },
            10_000,
          )
            .catch((e) => ({ ok: "no answer", error: String(e).slice(0, 80) })),
          session.request("health", {}, 10_000).catch((e) => ({
            ok: "no answer",
            error: String(e).slice(0, 80),
          })),
        ]);
        assert.equal(health.ok, true, `health: ${JSON.stringify(health)}`);
        assert.equal(sent.ok, false, `chat.send: ${JSON.stringify(sent)}`);
        assert.equal((sent.error as { code?: string }).code, "UNAVAILABLE", JSON.stringify(sent));
      } finally {
        server.kill("SIGCONT");
        session.ws.close();
      }
    } finally {
      await gw.proc.stop("SIGKILL").catch(() => {});
      await gw.home[Symbol.asyncDispose]();
      server.kill("SIGKILL");
      await server.status;
      await Deno.remove(dir, { recursive: true });
    }
  },
});

// Issue 16: "lose nothing when one dies"; "runs (agent.wait and chat.abort reach a run on any replica)".
// A turn whose replica was SIGKILLed mid-model-call keeps its input (good) but its run is never ended: it
// stays `running` for agent.timeoutMs + 10 min, so an `agent.wait` from any replica times out, no `chat`
// error/aborted event ever reaches the sender's session, and `chat.abort` from a survivor finds nothing to
// abort. Once the dead replica's session lease has lapsed (30 s), a survivor should end it.
