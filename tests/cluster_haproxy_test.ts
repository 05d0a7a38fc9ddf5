// Three real `openclaw gateway run` replicas (separate state dirs) on one real redis-server with
// `appendfsync always`, behind a real HAProxy on loopback: turns cross replicas, retries and lockouts
// hold cluster-wide, and the SIGKILL of the replica that acknowledged a message loses nothing.
import assert from "node:assert/strict";
import { join } from "node:path";
import { connectParams, historyText } from "./_helpers.ts";
import { makeDevice, signedConnectParams, type TestDevice } from "./_device_identity.ts";
import { type WsSession, wsSession } from "./_evidence_clients.ts";
import {
  DOC_PORTS,
  docsConfig,
  HAPROXY,
  haproxyConfig,
  NGINX,
  nginxConfig,
  nginxTest,
  startHaproxy,
  startNginx,
} from "./_balancers.ts";
import { REDIS_SERVER, startRedisServer } from "./_redis_server.ts";
import { freePort, runnerEnv, type RunnerProcess, spawnRunner, tempHome } from "./_runner_process.ts";
import { startFakeUpstream } from "./_upstream.ts";

const TOKEN = "haproxy-cluster-token-0123456789";
const missing = [!REDIS_SERVER && "redis-server", !HAPROXY && "haproxy"].filter(Boolean);
// CI installs both (.ci/run): there a missing one fails instead of skipping.
const ignore = missing.length > 0 && !Deno.env.get("CI");
if (ignore) console.warn(`skipping the HAProxy cluster test: ${missing.join(" and ")} not installed`);

type Json = Record<string, unknown>;

const docBackends = DOC_PORTS.replicas.map((port, i) => ({ name: "abc"[i], port }));

Deno.test("docs/scale-out.md shows the HAProxy config this test runs", async () => {
  assert.equal(await docsConfig("haproxy"), haproxyConfig(DOC_PORTS.frontend, docBackends));
});

Deno.test({
  name: "the nginx config of docs/scale-out.md passes `nginx -t`",
  // CI installs nginx (.ci/run): there a missing one fails instead of skipping.
  ignore: !NGINX && !Deno.env.get("CI"),
  async fn() {
    const config = await docsConfig("nginx");
    const verdict = await nginxTest(config);
    assert.ok(verdict.ok, verdict.output);
    assert.equal(
      nginxConfig(config, DOC_PORTS.frontend, docBackends),
      config,
      "the test's ports are the docs'",
    );
  },
});

/** One replica: a runner process with its own HOME and state dir, on its own port. */
interface Replica {
  name: string;
  port: number;
  proc: RunnerProcess;
  home: AsyncDisposable;
}

function replicaConfig(port: number, upstream: string): Json {
  return {
    gateway: {
      mode: "local",
      port,
      auth: { token: TOKEN, rateLimit: { maxAttempts: 2, windowMs: 60_000, lockoutMs: 60_000 } },
      // HAProxy (and the lockout step's client) forward the client address from loopback.
      trustedProxies: ["127.0.0.1"],
      cluster: { keyPrefix: "ha:" },
    },
    agents: {
      defaults: { model: { primary: "local/scripted-1" } },
      // A turn of `slow` stays open upstream, so a replica can die in the middle of it.
      entries: { main: { default: true }, slow: { model: "up/slow" } },
    },
    models: {
      providers: {
        up: { baseUrl: upstream, apiKey: "k", api: "openai-completions", models: [{ id: "slow" }] },
      },
    },
  };
}

async function startReplica(name: string, redisUrl: string, upstream: string): Promise<Replica> {
  const home = await tempHome();
  const port = freePort();
  await Deno.writeTextFile(join(home.state, "openclaw.json"), JSON.stringify(replicaConfig(port, upstream)));
  const proc = spawnRunner(["gateway"], runnerEnv(home.home, { OPENCLAW_REDIS_URL: redisUrl }));
  return { name, port, proc, home };
}

/** A client that finished the handshake, and the replica HAProxy placed it on (none when direct). */
interface Client {
  session: WsSession;
  replica?: string;
  /** The `hello-ok` payload. */
  hello: Json;
  request(method: string, params?: Json): Promise<Json>;
}

/**
 * Who a client is: its device, and the `client.instanceId` it claims. With `token` (a device token it was
 * issued) it signs in with that instead of the shared token, already paired.
 */
interface Identity {
  device: TestDevice;
  instanceId?: string;
  token?: string;
}

/**
 * A replica's port: a device that connects there directly (loopback, no proxy headers) is paired at once,
 * as the reference pairs local devices; through the balancer it then signs in already paired.
 */
let pairVia = 0;

/**
 * Connects to `port` (a replica's, or HAProxy's) as a client named `name`; `headers` go with the upgrade.
 * With `device` the connect is signed by it; without one the client is device-less, which the reference
 * lets in with no scopes (enough for the lockout checks).
 */
async function connectTo(
  port: number,
  name: string,
  token = TOKEN,
  headers: Record<string, string> = {},
  device?: TestDevice,
  instanceId?: string,
) {
  const session = wsSession(`ws://127.0.0.1:${port}`, headers);
  const replica = new Promise<string | undefined>((resolve) =>
    session.ws.once("upgrade", (res) => resolve(res.headers["x-openclaw-replica"] as string | undefined))
  );
  const challenge = await session.waitFor((f) => f.event === "connect.challenge", 10_000);
  const client = {
    id: "test-client",
    version: "0.0.1",
    platform: "Linux",
    mode: "test",
    displayName: name,
    ...(instanceId ? { instanceId } : {}),
  };
  const params = device
    ? await signedConnectParams(device, challenge.payload as { nonce: string; ts: number }, {
      token,
      client: { ...client, deviceFamily: "Desktop" },
    })
    : connectParams({ auth: { token }, client });
  const response = await session.request("connect", params, 10_000);
  return { session, response, replica: await replica };
}

async function client(port: number, name: string, identity?: Identity): Promise<Client> {
  // Device-less clients get no scopes behind a balancer (the reference's rule): each has its own device.
  const { device = await makeDevice(), instanceId, token } = identity ?? {};
  if (!token) {
    const pairing = await connectTo(pairVia, name, TOKEN, {}, device, instanceId);
    assert.equal(pairing.response.ok, true, JSON.stringify(pairing.response));
    pairing.session.ws.close();
  }
  const { session, response, replica } = await connectTo(port, name, token ?? TOKEN, {}, device, instanceId);
  assert.equal(response.ok, true, JSON.stringify(response));
  return {
    session,
    replica,
    hello: response.payload as Json,
    async request(method, params = {}) {
      const answer = await session.request(method, params, 10_000);
      assert.equal(answer.ok, true, `${method}: ${JSON.stringify(answer.error)}`);
      return answer.payload as Json;
    },
  };
}

const chatEvent = (runId: string, state: string) => (f: Json) =>
  f.event === "chat" && (f.payload as Json).runId === runId && (f.payload as Json).state === state;

function texts(history: Json): string[] {
  return (history.messages as { content: string | { text: string }[] }[]).map(historyText);
}

async function until<T>(read: () => Promise<T>, ok: (value: T) => boolean, what: string): Promise<T> {
  const deadline = Date.now() + 15_000;
  for (;;) {
    const value = await read();
    if (ok(value)) return value;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}: ${JSON.stringify(value)}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

Deno.test({
  name:
    "three replicas behind HAProxy on one Redis: turns, retries, presence and lockouts cross replicas; a SIGKILL loses nothing",
  ignore,
  sanitizeResources: false,
  sanitizeOps: false,
  async fn(t) {
    const redis = await startRedisServer(freePort(), { appendfsync: "always" });
    const upstream = startFakeUpstream();
    const replicas = await Promise.all(
      ["a", "b", "c"].map((name) => startReplica(name, redis.url, `${upstream.url}/v1`)),
    );
    const clients: Client[] = [];
    const track = (c: Client) => (clients.push(c), c);
    let haproxy: Awaited<ReturnType<typeof startHaproxy>> | undefined;
    try {
      await Promise.all(replicas.map((r) => r.proc.waitFor(/gateway listening/, 90_000)));
      pairVia = replicas[0].port;
      haproxy = await startHaproxy(replicas);
      const byName = new Map(replicas.map((r) => [r.name, r]));

      // The sender goes through HAProxy; a watcher sits directly on each of the two other replicas.
      const sender = track(await client(haproxy.port, "sender"));
      assert.ok(sender.replica && byName.has(sender.replica), `placed on ${sender.replica}`);
      const others = replicas.filter((r) => r.name !== sender.replica);
      const watchers = await Promise.all(
        others.map(async (r) => track(await client(r.port, `watch-${r.name}`))),
      );
      // HAProxy puts the next client on a replica with fewer connections than the sender's.
      const viaProxy = track(await client(haproxy.port, "watch-proxy"));
      assert.notEqual(viaProxy.replica, sender.replica);
      const send = { sessionKey: "main", message: "across the balancer", idempotencyKey: "ha-1" };

      await t.step(
        "a turn started through HAProxy on one replica streams to clients of the others",
        async () => {
          const sent = await sender.request("chat.send", send);
          assert.equal(sent.status, "started");
          const runId = sent.runId as string;
          for (const watcher of [...watchers, viaProxy]) {
            const final = await watcher.session.waitFor(chatEvent(runId, "final"), 10_000);
            assert.match(JSON.stringify(final), /Local model reply #1: you said \\"across the balancer\\"/);
            // Live: the words came as deltas before the final.
            const states = watcher.session.frames.filter((f) => f.event === "chat").map((f) =>
              (f.payload as Json).state
            );
            assert.ok(
              states.indexOf("delta") !== -1 && states.indexOf("delta") < states.indexOf("final"),
              `${states}`,
            );
          }
          const b = watchers[0];
          assert.deepEqual(texts(await b.request("chat.history", { sessionKey: "main" })), [
            "across the balancer",
            'Local model reply #1: you said "across the balancer".',
          ]);
          const listed = await b.request("sessions.list", {});
          assert.ok(
            (listed.sessions as Json[]).some((s) => s.key === "agent:main:main"),
            JSON.stringify(listed),
          );

          // The same key on another replica: the first outcome, and no second turn.
          const retried = await b.request("chat.send", send);
          assert.deepEqual(retried, sent);
          await new Promise((r) => setTimeout(r, 300));
          assert.equal(texts(await watchers[1].request("chat.history", { sessionKey: "main" })).length, 2);
          const runsSeen = new Set(
            b.session.frames.filter((f) => f.event === "chat").map((f) => (f.payload as Json).runId),
          );
          assert.deepEqual([...runsSeen], [runId], "no other run was started");
        },
      );

      await t.step("system-presence on every replica lists the clients of every replica", async () => {
        const names = ["sender", "watch-proxy", ...others.map((r) => `watch-${r.name}`)];
        for (const r of replicas) {
          const probe = track(await client(r.port, `probe-${r.name}`));
          await until(
            () => probe.request("system-presence"),
            (rows) => names.every((n) => (rows as unknown as Json[]).some((row) => row.host === n)),
            `presence on ${r.name}`,
          );
        }
      });

      await t.step({
        name: "the nginx config of docs/scale-out.md carries sockets and turns to the replicas too",
        ignore: !NGINX,
        async fn() {
          const nginx = await startNginx(replicas);
          try {
            const viaNginx = track(await client(nginx.port, "via-nginx"));
            assert.equal(texts(await viaNginx.request("chat.history", { sessionKey: "main" })).length, 2);
            const sent = await viaNginx.request("chat.send", {
              sessionKey: "nginx",
              message: "through nginx",
              idempotencyKey: "ngx-1",
            });
            await viaNginx.session.waitFor(chatEvent(sent.runId as string, "final"), 10_000);
            await watchers[0].session.waitFor(chatEvent(sent.runId as string, "final"), 10_000);
          } finally {
            await nginx.stop();
          }
        },
      });

      await t.step("a lockout earned on one replica holds on another", async () => {
        const [a, b] = replicas;
        const from = { "x-forwarded-for": "203.0.113.7" };
        for (let attempt = 0; attempt < 2; attempt++) {
          const { session, response } = await connectTo(a.port, "guesser", "wrong-token-0123456789", from);
          assert.equal(response.ok, false);
          session.ws.close();
        }
        const { session, response } = await connectTo(b.port, "guesser", TOKEN, from);
        assert.equal(response.ok, false, "the right token is refused while locked out");
        assert.equal((response.error as { details: Json }).details.code, "AUTH_RATE_LIMITED");
        session.ws.close();
        // Another address is not locked out.
        const other = await connectTo(b.port, "other", TOKEN, { "x-forwarded-for": "203.0.113.8" });
        assert.equal(other.response.ok, true);
        other.session.ws.close();
      });

      await t.step(
        "kill -9 of the replica that acknowledged a message: nothing lost, its clients resume",
        async () => {
          const victimId: Identity = { device: await makeDevice(), instanceId: "victim-instance-1" };
          const victim = track(await client(haproxy!.port, "victim", victimId));
          const deviceToken = (victim.hello.auth as Json).deviceToken;
          assert.equal(typeof deviceToken, "string", "the paired victim was issued a device token");
          const dying = byName.get(victim.replica!)!;
          const survivor = track(await client(replicas.find((r) => r !== dying)!.port, "survivor"));
          const durable = { sessionKey: "agent:slow:main", message: "must survive", idempotencyKey: "ha-2" };
          const sent = await victim.request("chat.send", durable);
          assert.equal(sent.status, "started");
          // The turn is still waiting on the model when its replica dies.
          await until(
            () => Promise.resolve(upstream.requests.filter((r) => r.body.model === "slow").length),
            (n) => n === 1,
            "the turn to reach the model",
          );
          dying.proc.child.kill("SIGKILL");
          await dying.proc.status;
          pairVia = replicas.find((r) => r !== dying)!.port;
          const history = await survivor.request("chat.history", { sessionKey: "agent:slow:main" });
          assert.deepEqual(texts(history), ["must survive"]);

          // The victim's socket dropped; the same client (its device, its instance id, the device token it
          // was issued) reconnects through HAProxy to a living replica and goes on.
          await victim.session.ended;
          const back = track(
            await client(haproxy!.port, "victim", { ...victimId, token: deviceToken as string }),
          );
          assert.notEqual(back.replica, dying.name);
          assert.equal((back.hello.auth as Json).role, "operator", "its device token is still accepted");
          // One presence row for it, on every living replica: the new socket's, not the dead replica's.
          for (const r of replicas.filter((r) => r !== dying)) {
            const probe = track(await client(r.port, `presence-probe-${r.name}`));
            const rows = await until(
              () => probe.request("system-presence"),
              (rows) => {
                const own = (rows as unknown as Json[]).filter((row) => row.deviceId === victimId.device.id);
                return own.length === 1 && own[0].instanceId === victimId.instanceId;
              },
              `one presence row for the victim on ${r.name}`,
            );
            const own = (rows as unknown as Json[]).filter((row) => row.instanceId === victimId.instanceId);
            assert.equal(own.length, 1, JSON.stringify(own));
          }
          assert.deepEqual(texts(await back.request("chat.history", { sessionKey: "agent:slow:main" })), [
            "must survive",
          ]);
          const next = await back.request("chat.send", {
            sessionKey: "main",
            message: "after",
            idempotencyKey: "ha-3",
          });
          await back.session.waitFor(chatEvent(next.runId as string, "final"), 10_000);
          assert.equal(texts(await survivor.request("chat.history", { sessionKey: "main" })).length, 4);
          // It hears the session's events of turns other clients start, whichever replica runs them.
          const others = await survivor.request("chat.send", {
            sessionKey: "main",
            message: "from the survivor",
            idempotencyKey: "ha-5",
          });
          await back.session.waitFor(chatEvent(others.runId as string, "final"), 10_000);
          // The dead replica still holds the slow session's lease (until its TTL): a turn there is answered
          // at once and waits for it.
          const queued = await back.request("chat.send", {
            sessionKey: "agent:slow:main",
            message: "after the crash",
            idempotencyKey: "ha-4",
          });
          assert.equal(queued.status, "started");
        },
      );
    } finally {
      for (const c of clients) c.session.ws.terminate();
      await haproxy?.stop();
      for (const r of replicas) {
        await r.proc.stop("SIGKILL").catch(() => {});
        await r.home[Symbol.asyncDispose]();
      }
      await upstream.close();
      await redis.stop();
    }
  },
});
