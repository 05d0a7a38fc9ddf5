// Issue 16: a replica that cannot start on its Redis says so in words an operator can act on: the last line
// names Redis, the server and where the URL came from, and a certificate the runtime does not trust comes
// with how to trust a private CA (which then works). Real redis-server (TLS port included), real `openclaw gateway` processes.
import assert from "node:assert/strict";
import { selfSignedCert } from "./_evidence_clients.ts";
import { spawnIn, untilListening } from "./_daemon.ts";
import { IGNORE_WITHOUT_REDIS, REDIS_SERVER, redisTest } from "./_redis_server.ts";
import { redisStores } from "../stores/redis.ts";
import { freePort, runnerEnv, runRunner, spawnRunner, tempHome } from "./_runner_process.ts";
import { clusterTarget } from "../runner/gateway/cluster-stores.ts";

const TOKEN = "start-errors-token-0123456789";

/** Runs `gateway` against `redisUrl` and returns its exit code and the last line of its stderr. */
async function failedStart(redisUrl: string): Promise<{ code: number; last: string }> {
  await using home = await tempHome();
  const run = runRunner(
    ["gateway", "--port", String(freePort()), "--allow-unconfigured"],
    runnerEnv(home.home, { OPENCLAW_REDIS_URL: redisUrl, OPENCLAW_GATEWAY_TOKEN: TOKEN }),
  );
  let timer: ReturnType<typeof setTimeout> | undefined;
  const result = await Promise.race([
    run,
    new Promise<never>((_, reject) =>
      timer = setTimeout(() => reject(new Error("the start did not fail")), 60_000)
    ),
  ]).finally(() => clearTimeout(timer));
  return { code: result.code, last: result.stderr.trim().split("\n").at(-1) ?? "" };
}

Deno.test({
  name:
    "a rediss:// server with an untrusted certificate fails the start naming Redis, its URL and DENO_CERT",
  ignore: IGNORE_WITHOUT_REDIS,
  sanitizeResources: false,
  sanitizeOps: false,
  async fn() {
    const dir = await Deno.makeTempDir({ prefix: "redis-tls-" });
    const port = freePort();
    const { certPath, keyPath } = await selfSignedCert(dir);
    // deno-fmt-ignore
    const server = spawnIn(dir, REDIS_SERVER!, [
      "--port", "0", "--tls-port", String(port), "--bind", "127.0.0.1", "--tls-cert-file", certPath,
      "--tls-key-file", keyPath, "--tls-auth-clients", "no", "--save", "", "--appendonly", "no", "--dir", dir,
    ]);
    await untilListening("redis-server (TLS)", port, server.stop);
    try {
      const { code, last } = await failedStart(`rediss://user:sekrit-pass@127.0.0.1:${port}/0`);
      assert.notEqual(code, 0);
      assert.match(last, /Redis at rediss:\/\/127\.0\.0\.1:\d+\/0 could not be reached/, last);
      assert.ok(last.includes(`127.0.0.1:${port}`), `the error names the server: ${last}`);
      assert.match(last, /DENO_CERT=/, `the error says how to trust a private CA: ${last}`);
      assert.match(last, /from OPENCLAW_REDIS_URL/, last);
      assert.ok(!last.includes("sekrit-pass"), `the password stays out of the error: ${last}`);

      // What the hint says works: the same start, with the certificate given as DENO_CERT, comes up.
      await using home = await tempHome();
      const env = { OPENCLAW_REDIS_URL: `rediss://127.0.0.1:${port}/0`, OPENCLAW_GATEWAY_TOKEN: TOKEN };
      const gateway = spawnRunner(
        ["gateway", "--port", String(freePort()), "--allow-unconfigured"],
        runnerEnv(home.home, { ...env, DENO_CERT: certPath }),
      );
      try {
        await gateway.waitFor(/gateway listening/, 60_000);
      } finally {
        await gateway.stop();
      }
    } finally {
      await server.stop(); // removes `dir` too
    }
  },
});

Deno.test({
  name: "a Redis that is not listening fails the start naming Redis and its server",
  ignore: IGNORE_WITHOUT_REDIS,
  sanitizeResources: false,
  sanitizeOps: false,
  async fn() {
    const port = freePort();
    const { code, last } = await failedStart(`redis://127.0.0.1:${port}`);
    assert.notEqual(code, 0);
    assert.match(
      last,
      new RegExp(`Redis at redis://127\\.0\\.0\\.1:${port} could not be reached: .*ECONNREFUSED`),
      last,
    );
    assert.doesNotMatch(last, /DENO_CERT/, last);
  },
});

Deno.test("a Redis URL from the environment or a SecretRef that is not redis:// or rediss:// is refused, naming its source", () => {
  assert.throws(
    () => clusterTarget({}, { OPENCLAW_REDIS_URL: "http://user:pw@127.0.0.1:6379" }),
    (e: Error) => e.message === "OPENCLAW_REDIS_URL is not a redis:// or rediss:// URL",
  );
  assert.throws(
    // A SecretRef resolves to a string before the config reaches clusterTarget.
    () => clusterTarget({ gateway: { cluster: { redis: { url: "127.0.0.1:6379" } } } }, {}),
    /^GatewayError: gateway\.cluster\.redis\.url is not a redis:\/\/ or rediss:\/\/ URL$/,
  );
  assert.deepEqual(clusterTarget({}, { OPENCLAW_REDIS_URL: "rediss://h:1/2" }), {
    url: "rediss://h:1/2",
    keyPrefix: "openclaw:",
  });
});

redisTest(
  "credentials and a database in the URL: an ACL user writes to its db; a wrong password fails the start by name",
  async (redis) => {
    const admin = await redis.client();
    await admin.sendCommand(["ACL", "SETUSER", "gateway", "on", ">right-pass", "~*", "&*", "+@all"]);
    const port = new URL(redis.url).port;
    const stores = await redis.stores({
      url: `redis://gateway:right-pass@127.0.0.1:${port}/3`,
      keyPrefix: "creds:",
    });
    assert.equal(stores.displayUrl, `redis://127.0.0.1:${port}/3`);
    await stores.stateVersions.bump("presence");
    await admin.sendCommand(["SELECT", "3"]);
    assert.ok((await admin.sendCommand(["KEYS", "creds:*"]) as string[]).length > 0, "keys in db 3");
    await admin.sendCommand(["SELECT", "0"]);
    assert.deepEqual(await admin.sendCommand(["KEYS", "creds:*"]), [], "nothing in db 0");

    await assert.rejects(
      redisStores({ url: `redis://gateway:wrong-pass@127.0.0.1:${port}/3`, onError: () => {} }),
      (error: Error) => {
        assert.match(
          error.message,
          new RegExp(`^Redis at redis://127\\.0\\.0\\.1:${port}/3 could not be reached: WRONGPASS`),
        );
        assert.ok(!error.message.includes("wrong-pass"), error.message);
        return true;
      },
    );
  },
);

Deno.test("a Redis URL the client cannot parse is refused without its password in the error", async () => {
  for (const url of ["redis://gw:sekrit-pass@127.0.0.1:notaport/0", "redis://gw:sekrit-pass@[::1/0"]) {
    await assert.rejects(redisStores({ url, onError: () => {} }), (error: Error) => {
      assert.match(error.message, /^the Redis URL redis:\/\/\(unparsable URL\) cannot be used: Invalid URL/);
      assert.ok(!error.message.includes("sekrit-pass"), error.message);
      return true;
    });
  }
});
