// Telegram polling as a cluster singleton: replicas on one real Redis and the loopback Bot API. Only one
// replica calls getUpdates; when it stops (or is killed) another takes over within the lease TTL and
// resumes from the offset kept in Redis, so no update is answered twice and none is lost.
import assert from "node:assert/strict";
import { join } from "node:path";
import { agentsModule } from "../lib/agents/mod.ts";
import { ChannelPairing, channelsModule } from "../lib/channels/mod.ts";
import { commandCatalog } from "../runner/cli/command-table.ts";
import { runCli } from "../runner/cli/dispatch.ts";
import { createGateway, type Gateway, type GatewayConfig } from "../mod.ts";
import type { RedisStores } from "../stores/redis.ts";
import { TOKEN } from "./_helpers.ts";
import { type FakeTelegram, pollingTelegram, startFakeTelegram } from "./_fake_telegram.ts";
import { redisTest } from "./_redis_server.ts";
import { freePort, runnerEnv, spawnRunner, tempHome } from "./_runner_process.ts";

const TTL_MS = 600;

const until = async (check: () => boolean, ms: number, what: string) => {
  const end = Date.now() + ms;
  while (!check()) {
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 10));
  }
};

/** The replies the bot sent, by the text they answer; each must be there exactly once. */
function repliesTo(api: FakeTelegram, texts: string[]): Record<string, number> {
  const counts: Record<string, number> = Object.fromEntries(texts.map((t) => [t, 0]));
  for (const call of api.calls.filter((c) => c.method === "sendMessage")) {
    const said = /you said "(.*)"/.exec(String(call.body.text))?.[1];
    if (said !== undefined) counts[said] = (counts[said] ?? 0) + 1;
  }
  return counts;
}

const telegram = (apiRoot: string) => pollingTelegram(apiRoot, { allowFrom: ["7"] });

interface Replica {
  name: string;
  gateway: Gateway;
  stores: RedisStores;
}

redisTest(
  "two gateways on one Redis: one polls Telegram; when it stops, the other resumes from the shared offset",
  async (redis) => {
    const api = startFakeTelegram();
    const polls: string[] = [];
    const replicas: Replica[] = [];
    const start = async (name: string) => {
      const stores = await redis.stores({ keyPrefix: "tg:", onError: () => {} });
      const agents = agentsModule();
      const config: GatewayConfig = {
        gateway: { auth: { mode: "token", token: TOKEN }, cluster: { leaseTtlMs: TTL_MS } },
        channels: { telegram: telegram(api.url) },
      };
      // Which replica asks for updates is seen on the way out.
      const fetchAs = (input: string | URL | Request, init?: RequestInit) => {
        if (String(input).endsWith("/getUpdates")) polls.push(name);
        return fetch(input, init);
      };
      const gateway = createGateway({
        config,
        stores,
        modules: [agents, channelsModule({ agents, fetch: fetchAs })],
      });
      await gateway.start();
      const replica = { name, gateway, stores };
      replicas.push(replica);
      return replica;
    };
    try {
      const a = await start("a");
      await until(() => polls.includes("a"), 5_000, "a to poll");
      const b = await start("b");
      api.push("one", 7);
      api.push("two", 7);
      await until(() => repliesTo(api, ["one", "two"]).two === 1, 10_000, "the replies to one and two");
      await new Promise((r) => setTimeout(r, TTL_MS * 2));
      assert.deepEqual([...new Set(polls)], ["a"], "only the lease holder polls");

      await a.gateway.stop();
      const stoppedAt = Date.now();
      api.push("three", 7);
      await until(() => polls.includes("b"), TTL_MS * 3, "b to take over");
      const movedAfter = Date.now() - stoppedAt;
      await until(() => repliesTo(api, ["three"]).three === 1, 10_000, "the reply to three");
      // Time for a replayed update to be answered again, were the offset not shared.
      await new Promise((r) => setTimeout(r, TTL_MS));
      assert.deepEqual(repliesTo(api, ["one", "two", "three"]), { one: 1, two: 1, three: 1 });
      assert.ok(movedAfter <= TTL_MS * 2, `the poller moved after ${movedAfter} ms`);
      // The handed-over offset is in Redis, where both replicas read it.
      const offset = await b.stores.docs.read("telegram/update-offset-default.json") as {
        lastUpdateId: number;
      };
      assert.equal(offset.lastUpdateId, 103);
    } finally {
      for (const { gateway } of replicas) await gateway.stop();
      await api.close();
    }
  },
);

/** A loopback relay in front of the Bot API that notes who asked for updates. */
function relay(api: FakeTelegram, name: string, polls: string[]) {
  const controller = new AbortController();
  const server = Deno.serve(
    { hostname: "127.0.0.1", port: 0, signal: controller.signal, onListen() {} },
    async (request) => {
      const url = new URL(request.url);
      if (url.pathname.endsWith("/getUpdates")) polls.push(name);
      const upstream = await fetch(api.url + url.pathname, {
        method: request.method,
        headers: request.headers,
        body: await request.arrayBuffer(),
        signal: request.signal,
      }).catch(() => new Response(null, { status: 502 }));
      return new Response(upstream.body, { status: upstream.status, headers: upstream.headers });
    },
  );
  return {
    url: `http://127.0.0.1:${server.addr.port}`,
    async close() {
      controller.abort();
      await server.finished;
    },
  };
}

redisTest(
  "two `gateway run` processes: kill -9 the Telegram poller and the other polls within the lease TTL",
  async (redis) => {
    const api = startFakeTelegram();
    const polls: string[] = [];
    const relays = { a: relay(api, "a", polls), b: relay(api, "b", polls) };
    await using homeA = await tempHome();
    await using homeB = await tempHome();
    const config = (apiRoot: string) => ({
      gateway: {
        mode: "local",
        port: freePort(),
        auth: { token: TOKEN },
        cluster: { redis: { url: redis.url }, keyPrefix: "tg-run:", leaseTtlMs: TTL_MS * 2 },
      },
      agents: { defaults: { model: { primary: "local/scripted-1" } } },
      channels: { telegram: telegram(apiRoot) },
    });
    await Deno.writeTextFile(join(homeA.state, "openclaw.json"), JSON.stringify(config(relays.a.url)));
    await Deno.writeTextFile(join(homeB.state, "openclaw.json"), JSON.stringify(config(relays.b.url)));
    const runners = {
      a: spawnRunner(["gateway"], runnerEnv(homeA.home)),
      b: spawnRunner(["gateway"], runnerEnv(homeB.home)),
    };
    try {
      await Promise.all([
        runners.a.waitFor(/gateway listening/, 60_000),
        runners.b.waitFor(/gateway listening/, 60_000),
      ]);
      await until(() => polls.length > 0, 10_000, "a replica to poll");
      const holder = polls[0] as "a" | "b";
      const other = holder === "a" ? "b" : "a";
      api.push("before", 7);
      await until(() => repliesTo(api, ["before"]).before === 1, 15_000, "the reply to before");
      assert.ok(!polls.includes(other), "only the holder polls");

      assert.equal(await runners[holder].stop("SIGKILL"), 137);
      const killedAt = Date.now();
      api.push("after", 7);
      await until(() => polls.includes(other), TTL_MS * 2 * 3, `${other} to take over`);
      const movedAfter = Date.now() - killedAt;
      await until(() => repliesTo(api, ["after"]).after === 1, 15_000, "the reply to after");
      await new Promise((r) => setTimeout(r, TTL_MS));
      assert.deepEqual(repliesTo(api, ["before", "after"]), { before: 1, after: 1 });
      // A killed holder's lease ends by its TTL (plus the taker's polling interval, a third of it).
      assert.ok(movedAfter <= TTL_MS * 2 * 2, `the poller moved after ${movedAfter} ms`);
    } finally {
      await runners.a.stop();
      await runners.b.stop();
      await relays.a.close();
      await relays.b.close();
      await api.close();
    }
  },
);

redisTest(
  "`openclaw pairing` in a cluster lists and approves the requests kept in Redis, not in the state dir",
  async (redis) => {
    const stores = await redis.stores({ keyPrefix: "pair:", onError: () => {} });
    await using home = await tempHome();
    const { code } = await new ChannelPairing(stores.docs).request("telegram", "7", { name: "Ada" });
    // The URL comes from a SecretRef, as a password-bearing URL should.
    await Deno.writeTextFile(
      join(home.state, "openclaw.json"),
      JSON.stringify({
        gateway: {
          cluster: {
            redis: { url: { source: "env", provider: "default", id: "SHARED_REDIS" } },
            keyPrefix: "pair:",
          },
        },
      }),
    );
    const cli = async (argv: string[]) => {
      const out: string[] = [];
      const exit = await runCli(argv, {
        output: { out: (t) => out.push(t), err: (t) => out.push(t) },
        env: { HOME: home.home, OPENCLAW_STATE_DIR: home.state, SHARED_REDIS: redis.url },
        osHome: home.home,
        shutdownSignal: new AbortController().signal,
        commands: commandCatalog({ isTerminal: false }),
        version: "test",
      });
      return { exit, out: out.join("\n") };
    };
    const listed = await cli(["pairing", "list", "telegram", "--json"]);
    assert.equal(listed.exit, 0, listed.out);
    assert.deepEqual(JSON.parse(listed.out).requests.map((r: { code: string }) => r.code), [code]);
    const approved = await cli(["pairing", "approve", "telegram", code]);
    assert.equal(approved.exit, 0, approved.out);
    assert.deepEqual(await new ChannelPairing(stores.docs).approved("telegram"), ["7"]);
  },
);
