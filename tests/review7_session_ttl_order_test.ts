// Review 7: with `gateway.cluster.sessionLeaseTtlMs` below `leaseTtlMs` (3 s beside 9 s), a dead replica's
// session lease lapsed long before its waiting turns were taken up (once it left the peers and the sweep
// ran): a turn sent to a live replica meanwhile found the session free and ran ahead of the message the dead
// replica had acknowledged. Such a config is now refused below twice `leaseTtlMs`
// (tests/cluster_session_lease_ttl_test.ts); this runs the shortest session lease it takes, sends the later
// message once that lease has lapsed, and checks the acknowledged one still ran first.
import assert from "node:assert/strict";
import { join } from "node:path";
import { connectParams, historyText } from "./_helpers.ts";
import { handshake } from "./_evidence_clients.ts";
import { REDIS_SERVER, startRedisServer } from "./_redis_server.ts";
import { freePort, runnerEnv, spawnRunner, tempHome } from "./_runner_process.ts";
import { scriptedUpstream } from "./_turn_queue_cluster.ts";

const TOKEN = "review7-order-token-0123456789";
// The shortest session lease the config takes beside these peer records (twice theirs): a config with the
// session lease below the peers' (3 s beside 9 s) is refused (tests/cluster_session_lease_ttl_test.ts).
const PEER_TTL_MS = 3_000;
const SESSION_TTL_MS = 2 * PEER_TTL_MS;

async function replica(redisUrl: string, upstream: string) {
  const home = await tempHome();
  const port = freePort();
  await Deno.writeTextFile(
    join(home.state, "openclaw.json"),
    JSON.stringify({
      gateway: {
        mode: "local",
        port,
        auth: { token: TOKEN },
        cluster: { keyPrefix: "r7o:", leaseTtlMs: PEER_TTL_MS, sessionLeaseTtlMs: SESSION_TTL_MS },
      },
      agents: { defaults: { model: { primary: "up/m" } } },
      models: {
        providers: {
          up: { baseUrl: upstream, apiKey: "k", api: "openai-completions", models: [{ id: "m" }] },
        },
      },
    }),
  );
  const proc = spawnRunner(["gateway"], runnerEnv(home.home, { OPENCLAW_REDIS_URL: redisUrl }));
  return { port, proc, home };
}

Deno.test({
  name: "review7: a message acknowledged by a dead replica runs before one sent later to a live replica",
  ignore: !REDIS_SERVER && !Deno.env.get("CI"),
  sanitizeResources: false,
  sanitizeOps: false,
  async fn() {
    const redis = await startRedisServer(freePort(), { appendfsync: "always" });
    const upstream = scriptedUpstream();
    const [a, b] = await Promise.all([0, 1].map(() => replica(redis.url, upstream.url)));
    const sockets: { ws: { terminate(): void } }[] = [];
    try {
      await Promise.all([a, b].map((r) => r.proc.waitFor(/gateway listening/, 90_000)));
      const [onA, onB] = await Promise.all([a, b].map(async (r) => {
        const { session, response } = await handshake(
          `ws://127.0.0.1:${r.port}`,
          connectParams({ auth: { token: TOKEN } }),
        );
        assert.equal(response.ok, true, JSON.stringify(response));
        sockets.push(session);
        return session;
      }));
      const send = async (on: typeof onA, message: string, key: string) => {
        const answer = await on.request(
          "chat.send",
          { sessionKey: "main", message, idempotencyKey: key },
          10_000,
        );
        assert.equal(answer.ok, true, JSON.stringify(answer.error));
      };
      await send(onA, "hold", "o-1");
      for (const deadline = Date.now() + 10_000; !upstream.held.length;) {
        assert.ok(Date.now() < deadline, "the first turn never reached the model");
        await new Promise((r) => setTimeout(r, 20));
      }
      // Acknowledged by A while A's own turn runs: it waits in the turn queue.
      await send(onA, "earlier", "o-2");
      a.proc.child.kill("SIGKILL");
      await a.proc.status;
      // A's session lease has lapsed; A is still listed among the peers.
      await new Promise((r) => setTimeout(r, SESSION_TTL_MS + 1_500));
      await send(onB, "later", "o-3");
      const history = async () =>
        ((await onB.request("chat.history", { sessionKey: "main" }, 10_000)).payload as {
          messages: { content: string }[];
        }).messages.map(historyText);
      let seen: string[] = [];
      for (const deadline = Date.now() + PEER_TTL_MS + 20_000;;) {
        seen = await history();
        if (seen.includes("Reply to: earlier") && seen.includes("Reply to: later")) break;
        assert.ok(Date.now() < deadline, `both turns never ran: ${JSON.stringify(seen)}`);
        await new Promise((r) => setTimeout(r, 250));
      }
      assert.ok(
        seen.indexOf("earlier") < seen.indexOf("later"),
        `the later message ran first: ${JSON.stringify(seen)}`,
      );
    } finally {
      for (const s of sockets) s.ws.terminate();
      for (const r of [a, b]) {
        await r.proc.stop("SIGKILL").catch(() => {});
        await r.home[Symbol.asyncDispose]();
      }
      await upstream.close();
      await redis.stop();
    }
  },
});
