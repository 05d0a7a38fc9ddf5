// The cluster in status: replicas announce themselves in a peers registry (in process, or Redis with a TTL;
// its contract is tests/contract/_peers.ts),
// the `status` method carries a `cluster` section (backend, this replica, peers alive), and
// `openclaw status` / `openclaw gateway status` show it.
import assert from "node:assert/strict";
import { join } from "node:path";
import { clusterModule, createGateway, type Gateway } from "../mod.ts";
import { nodeTransport } from "../node.ts";
import { displayUrl } from "../lib/state/redis/stores.ts";
import { client, connectParams, startGateway, TOKEN } from "./_helpers.ts";
import { fakeLinuxHost, OPS_TOKEN, recordingRunner, runOps, withTempDir, writeConfig } from "./_ops_fakes.ts";
import { redisTest, type TestRedis } from "./_redis_server.ts";
import { freePort, runnerEnv, spawnRunner, tempHome } from "./_runner_process.ts";

const TTL_MS = 300;

Deno.test("a gateway alone: status shows the in-process backend and itself as the one replica", async () => {
  const gateway = createGateway({
    config: { gateway: { auth: { mode: "token", token: TOKEN } } },
    modules: [clusterModule({ self: { host: "box", pid: 42 } })],
  });
  await gateway.start();
  try {
    // Peers' hosts and pids are shown to admins (see the read-only test below).
    const c = await client(gateway, connectParams({ scopes: ["operator.admin"] }));
    const status = await c.request("status", {});
    const cluster = (status.payload as { cluster: Record<string, unknown> }).cluster;
    const bootId = (c.hello.server as { bootId: string }).bootId;
    assert.equal(cluster.backend, "in-process");
    assert.equal(cluster.replicaId, bootId, "the replica id is the boot id clients see");
    assert.equal(cluster.peersAlive, 1);
    assert.deepEqual((cluster.peers as Record<string, unknown>[]).map((p) => [p.replicaId, p.host, p.pid]), [
      [bootId, "box", 42],
    ]);
    assert.equal("redis" in cluster, false);
    c.socket.close();
  } finally {
    await gateway.stop();
  }
});

Deno.test("the Redis URL shown has no credentials", () => {
  assert.equal(displayUrl("redis://user:s3cret@10.0.0.5:6380/2"), "redis://10.0.0.5:6380/2");
  assert.equal(displayUrl("rediss://:s3cret@cache.internal"), "rediss://cache.internal");
});

const until = async (check: () => Promise<boolean>, ms: number, what: string) => {
  const end = Date.now() + ms;
  while (!await check()) {
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 20));
  }
};

/** A replica on `redis` with the cluster module, listening on loopback. */
async function replica(redis: TestRedis, host: string) {
  const stores = await redis.stores({ keyPrefix: "st:", onError: () => {} });
  const gateway = createGateway({
    config: { gateway: { auth: { mode: "token", token: OPS_TOKEN }, cluster: { leaseTtlMs: TTL_MS } } },
    stores,
    transport: nodeTransport(),
    hostname: "127.0.0.1",
    port: 0,
    modules: [
      clusterModule({
        backend: {
          kind: "redis",
          url: stores.displayUrl,
          keyPrefix: "st:",
          connected: () => stores.connected,
        },
        self: { host, pid: 7 },
      }),
    ],
  });
  const port = (await gateway.start())!.port;
  return { gateway, stores, port };
}

async function clusterOf(gateway: Gateway): Promise<Record<string, unknown>> {
  return ((await gateway.call("status", {})) as { cluster: Record<string, unknown> }).cluster;
}

redisTest(
  "two replicas on one Redis: each status lists both; a stopped one leaves; the CLI shows the cluster",
  async (redis) => {
    const a = await replica(redis, "host-a");
    const b = await replica(redis, "host-b");
    let bStopped = false;
    try {
      // A replica's port is in its record from its first announcement after it listens.
      await until(
        async () => {
          const cluster = await clusterOf(a.gateway);
          return (cluster.peers as { port?: number }[]).filter((p) => p.port).length === 2;
        },
        TTL_MS * 5,
        "both replicas with their ports",
      );
      const cluster = await clusterOf(a.gateway);
      assert.equal(cluster.backend, "redis");
      assert.deepEqual(cluster.redis, { url: redis.url, keyPrefix: "st:", connected: true });
      assert.equal(cluster.peersAlive, 2);
      assert.deepEqual(
        (cluster.peers as Record<string, unknown>[]).map((p) => [p.host, p.port, p.pid]).sort(),
        [["host-a", a.port, 7], ["host-b", b.port, 7]],
      );
      for (const peer of cluster.peers as Record<string, number>[]) {
        assert.ok(peer.lastSeenAt >= peer.startedAt, JSON.stringify(peer));
      }

      await withTempDir(async (home) => {
        await writeConfig(home, { gateway: { mode: "local", port: a.port, auth: { token: OPS_TOKEN } } });
        const host = fakeLinuxHost(home, recordingRunner(() => ({ code: 1, stderr: "no bus" })).run);
        const run = (argv: string[]) => runOps(host, argv, { HOME: home });
        const line = new RegExp(
          `Cluster\\s+redis ${redis.url} \\(prefix st:\\) · replica [0-9a-f]{8} · 2 replicas alive \\(also host-b:${b.port} pid 7\\)`,
        );
        assert.match((await run(["status"])).out, line);
        assert.match(
          (await run(["gateway", "status"])).out,
          new RegExp(line.source.replace("Cluster\\s+", "Cluster: ")),
        );
        const overview = JSON.parse((await run(["status", "--json"])).out);
        assert.equal(overview.cluster.peersAlive, 2);
        const gatewayStatus = JSON.parse((await run(["gateway", "status", "--json"])).out);
        assert.equal(gatewayStatus.cluster.redis.url, redis.url);
        assert.equal(gatewayStatus.rpc.kind, "connect", "the connect probe stays what it was");
      });

      await b.gateway.stop();
      bStopped = true;
      await until(async () => (await clusterOf(a.gateway)).peersAlive === 1, TTL_MS * 3, "b to leave");
      // A replica that dies says no goodbye: its record ends with its TTL.
      await a.stores.peers.announce({ replicaId: "dead", host: "gone", startedAt: 1 }, TTL_MS);
      await until(
        async () => (await clusterOf(a.gateway)).peersAlive === 2,
        TTL_MS * 3,
        "the dead one to show",
      );
      await until(
        async () => (await clusterOf(a.gateway)).peersAlive === 1,
        TTL_MS * 4,
        "the dead one to expire",
      );
    } finally {
      await a.gateway.stop();
      if (!bStopped) await b.gateway.stop();
    }
  },
);

redisTest(
  "`gateway run` on Redis: its status names the backend and the replica, from the runner's modules",
  async (redis) => {
    await using home = await tempHome();
    const port = freePort();
    await Deno.writeTextFile(
      join(home.state, "openclaw.json"),
      JSON.stringify({ gateway: { mode: "local", port, auth: { token: OPS_TOKEN } } }),
    );
    const runner = spawnRunner(["gateway"], runnerEnv(home.home, { OPENCLAW_REDIS_URL: redis.url }));
    try {
      await runner.waitFor(/gateway listening/, 60_000);
      await withTempDir(async (cliHome) => {
        await writeConfig(cliHome, { gateway: { mode: "local", port, auth: { token: OPS_TOKEN } } });
        const host = fakeLinuxHost(cliHome, recordingRunner(() => ({ code: 1, stderr: "no bus" })).run);
        const json = JSON.parse((await runOps(host, ["status", "--json"], { HOME: cliHome })).out);
        assert.equal(json.cluster.backend, "redis");
        assert.equal(json.cluster.redis.keyPrefix, "openclaw:");
        assert.equal(json.cluster.peersAlive, 1);
        assert.equal(json.cluster.peers[0].pid, runner.child.pid);
      });
    } finally {
      assert.equal(await runner.stop(), 0);
    }
  },
);

Deno.test("status.cluster names peers' hosts, pids and ports only to admins, as status.bind", async () => {
  const gateway = await startGateway({
    config: { gateway: { auth: { mode: "token" as const, token: TOKEN } } },
    modules: [clusterModule({ self: { host: "db-host-7.internal", pid: 4242 } })],
  });
  try {
    const reader = await client(gateway, connectParams({ scopes: ["operator.read"] }));
    const read = (await reader.request("status", {})).payload as { cluster: Record<string, unknown> };
    assert.equal(JSON.stringify(read).includes("db-host-7.internal"), false);
    assert.equal(read.cluster.peersAlive, 1);
    const admin = await client(gateway, connectParams({ scopes: ["operator.admin"] }));
    const full = (await admin.request("status", {})).payload as { cluster: { peers: { host: string }[] } };
    assert.equal(full.cluster.peers[0].host, "db-host-7.internal");
  } finally {
    await gateway.stop();
  }
});
