// The Redis stores on Valkey: the store contracts, the cross-replica test and the Redis-down test run again
// in a child `deno test` with OPENCLAW_TEST_REDIS_SERVER pointing at a valkey-server, so Valkey is held to
// exactly the tests Redis is. Valkey comes from PATH, OPENCLAW_TEST_VALKEY_SERVER, or the cache dir that
// scripts/valkey_from_debian.sh fills (.ci/run runs it); without one these tests are ignored and say why.
import assert from "node:assert/strict";
import { join } from "node:path";
import { testRedis } from "./_redis_server.ts";

function findValkey(): string | undefined {
  const cache = Deno.env.get("XDG_CACHE_HOME") ?? join(Deno.env.get("HOME") ?? "/", ".cache");
  const candidates = [
    Deno.env.get("OPENCLAW_TEST_VALKEY_SERVER"),
    ...(Deno.env.get("PATH") ?? "").split(":").map((dir) => join(dir, "valkey-server")),
    join(cache, "openclaw-gateway-ts", "valkey", "valkey-server"),
  ];
  return candidates.find((path) => {
    try {
      return !!path && Deno.statSync(path).isFile;
    } catch {
      return false;
    }
  });
}

const VALKEY = findValkey();
const REUSED_TESTS = [
  "tests/contract_redis_stores_test.ts",
  "tests/cluster_crossreplica_test.ts",
  "tests/cluster_redis_down_test.ts",
  "tests/turn_roundtrips_redis_test.ts",
];

if (!VALKEY) {
  Deno.test({
    name: "Redis stores on Valkey (no valkey-server: run scripts/valkey_from_debian.sh)",
    ignore: true,
    fn() {},
  });
} else {
  Deno.test("the server these tests start is Valkey, not Redis", async () => {
    await using valkey = await testRedis({ server: VALKEY });
    const info = await (await valkey.client()).info("server");
    assert.match(info, /^server_name:valkey\r?$/m);
    assert.match(info, /^valkey_version:\d+\.\d+/m);
  });

  Deno.test("the Redis store contracts and the cross-replica tests pass on Valkey", async () => {
    const { code, stdout, stderr } = await new Deno.Command(Deno.execPath(), {
      args: ["test", "-A", ...REUSED_TESTS],
      cwd: new URL("..", import.meta.url).pathname,
      env: { OPENCLAW_TEST_REDIS_SERVER: VALKEY, NO_COLOR: "1" },
      stdin: "null",
    }).output();
    const output = new TextDecoder().decode(stdout) + new TextDecoder().decode(stderr);
    const summary = output.match(/^(ok|FAILED) \| (\d+) passed.*\| (\d+) failed/m);
    assert.ok(summary, `no deno test summary in:\n${output.slice(-4000)}`);
    assert.equal(code, 0, output.slice(-4000));
    assert.equal(Number(summary[3]), 0);
    // The contract file alone holds well over a hundred cases; a run that skipped it would pass far fewer.
    assert.ok(Number(summary[2]) >= 100, `only ${summary[2]} passed:\n${output.slice(-2000)}`);
    assert.doesNotMatch(output, /redis-server is not installed/);
  });
}
