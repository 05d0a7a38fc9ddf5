// `gateway.cluster`: the config section (and `OPENCLAW_REDIS_URL`) that points `gateway run` at a shared
// Redis, the stores the runner then hands each gateway, and two real runner processes sharing one Redis.
import assert from "node:assert/strict";
import { join } from "node:path";
import { JsonlSessionLog } from "../lib/state/jsonl-logs.ts";
import { redactConfigValue } from "../lib/config/redaction.ts";
import { validateAuthoredConfig } from "../lib/config/unknown-keys.ts";
import { createLogger, MemoryLogSink } from "../lib/log/logger.ts";
import { ClusterStores, clusterTarget } from "../runner/gateway/cluster-stores.ts";
import { IGNORE_WITHOUT_REDIS, redisTest } from "./_redis_server.ts";
import { freePort, runnerEnv, spawnRunner, tempHome } from "./_runner_process.ts";

const TOKEN = "cluster-token-0123456789";
if (IGNORE_WITHOUT_REDIS) {
  console.warn("skipping the cluster tests that need redis-server: it is not installed");
}

Deno.test("gateway.cluster takes a redis URL (string or SecretRef) and a key prefix, and nothing else", () => {
  const ok = (cluster: unknown) => validateAuthoredConfig({ gateway: { cluster } });
  assert.equal(ok({ redis: { url: "redis://:pw@10.0.0.5:6379/2" }, keyPrefix: "team-a:" }).ok, true);
  assert.equal(ok({ redis: { url: "rediss://cache.internal:6380" } }).ok, true);
  assert.equal(ok({ redis: { url: { source: "env", provider: "default", id: "REDIS_URL" } } }).ok, true);
  const badScheme = ok({ redis: { url: "http://10.0.0.5:6379" } });
  assert.equal(badScheme.ok, false);
  assert.match(JSON.stringify(badScheme), /gateway\.cluster\.redis\.url.*redis:\/\/ or rediss:\/\//);
  const typo = ok({ redis: { uri: "redis://x" } });
  assert.equal(typo.ok, false);
  assert.match(JSON.stringify(typo), /uri/);
  assert.equal(ok({ keyPrefix: "" }).ok, false, "an empty prefix would mix with other keys");
});

Deno.test("config.get hides the password of a Redis URL", () => {
  const url = "redis://default:s3cret-pass@10.0.0.5:6379/2";
  const shown = redactConfigValue({ gateway: { cluster: { redis: { url } } } });
  const text = JSON.stringify(shown.value);
  assert.doesNotMatch(text, /s3cret-pass/);
  assert.match(text, /10\.0\.0\.5:6379\/2/);
});

Deno.test("the Redis target: none without a URL, the config's, and OPENCLAW_REDIS_URL over it", () => {
  assert.equal(clusterTarget({}, {}), undefined);
  assert.equal(
    clusterTarget({ gateway: { cluster: { keyPrefix: "x:" } } }, { OPENCLAW_REDIS_URL: "" }),
    undefined,
  );
  const config = { gateway: { cluster: { redis: { url: "redis://a:1" } } } };
  assert.deepEqual(clusterTarget(config, {}), { url: "redis://a:1", keyPrefix: "openclaw:" });
  assert.deepEqual(
    clusterTarget({ gateway: { cluster: { ...config.gateway.cluster, keyPrefix: "t:" } } }, {
      OPENCLAW_REDIS_URL: "redis://b:2",
    }),
    { url: "redis://b:2", keyPrefix: "t:" },
  );
});

const logger = () => createLogger({ sinks: [new MemoryLogSink()] });

Deno.test("without a Redis URL the runner's stores are the JSONL ones, as before", async () => {
  const dir = await Deno.makeTempDir({ prefix: "openclaw-cluster-" });
  const holder = new ClusterStores(dir, {}, logger());
  const stores = await holder.storesFor({});
  assert.ok(stores.sessions instanceof JsonlSessionLog);
  assert.equal(stores.bus, undefined, "the rest stay in process");
  await holder.close();
  await Deno.remove(dir, { recursive: true });
});

redisTest(
  "with a Redis URL two holders share one bundle's state; a config keeping the target keeps it",
  async (redis) => {
    const a = new ClusterStores("/nonexistent", { OPENCLAW_REDIS_URL: redis.url }, logger());
    const b = new ClusterStores("/nonexistent", {}, logger());
    try {
      const config = { gateway: { cluster: { redis: { url: redis.url }, keyPrefix: "holders:" } } };
      const one = await a.storesFor(config);
      const two = await b.storesFor(config);
      await one.sessions!.put({
        key: "agent:main:main",
        sessionId: "s1",
        agentId: "main",
        createdAt: 1,
        updatedAt: 1,
        inputTokens: 0,
        outputTokens: 0,
      });
      assert.equal((await two.sessions!.get("agent:main:main"))?.sessionId, "s1");
      assert.equal(await a.storesFor(config), one, "the same target reuses the open bundle");
      const other = await a.storesFor({
        gateway: { cluster: { ...config.gateway.cluster, keyPrefix: "else:" } },
      });
      assert.notEqual(other, one);
      assert.equal(await other.sessions!.get("agent:main:main"), undefined, "another prefix, other state");
    } finally {
      await a.close();
      await b.close();
    }
  },
);

/** A Responses API call to a runner on `port`. */
async function respond(port: number, body: Record<string, unknown>): Promise<{ id: string; text: string }> {
  const response = await fetch(`http://127.0.0.1:${port}/v1/responses`, {
    method: "POST",
    headers: { authorization: `Bearer ${TOKEN}`, "content-type": "application/json" },
    body: JSON.stringify({ model: "openclaw", ...body }),
  });
  const json = await response.json();
  assert.equal(response.status, 200, JSON.stringify(json));
  return { id: json.id, text: json.output[0].content[0].text };
}

redisTest(
  "two `gateway run` processes on one Redis: a conversation started on one continues on the other",
  async (redis) => {
    await using homeA = await tempHome();
    await using homeB = await tempHome();
    const ports = [freePort(), freePort()];
    const config = (port: number, cluster: Record<string, unknown>) => ({
      gateway: {
        mode: "local",
        port,
        auth: { token: TOKEN },
        http: { endpoints: { responses: { enabled: true } } },
        cluster,
      },
      agents: { defaults: { model: { primary: "local/scripted-1" } } },
    });
    // One replica names the server in its config, the other through the environment.
    const write = (state: string, body: unknown) =>
      Deno.writeTextFile(join(state, "openclaw.json"), JSON.stringify(body));
    await write(homeA.state, config(ports[0], { redis: { url: redis.url }, keyPrefix: "e2e:" }));
    await write(homeB.state, config(ports[1], { keyPrefix: "e2e:" }));
    const a = spawnRunner(["gateway"], runnerEnv(homeA.home));
    const b = spawnRunner(["gateway"], runnerEnv(homeB.home, { OPENCLAW_REDIS_URL: redis.url }));
    try {
      await Promise.all([a.waitFor(/gateway listening/, 60_000), b.waitFor(/gateway listening/, 60_000)]);
      const first = await respond(ports[0], { input: "first" });
      const next = await respond(ports[1], { input: "second", previous_response_id: first.id });
      assert.equal(next.text, 'Local model reply #2: you said "second".');
    } finally {
      assert.equal(await a.stop(), 0);
      assert.equal(await b.stop(), 0);
    }
  },
);
