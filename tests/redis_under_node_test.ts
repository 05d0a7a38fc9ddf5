// The Redis stores under Node (node-redis is the client on both runtimes, but only Deno ran it so far): on a
// real redis-server, tests/_redis_node_child.mts appends to a transcript and reads it back through a second
// bundle, hears a bus event of one bundle on the other, and starts and stops a gateway on the Node transport
// over those stores. Under Node 20 (`node`) and Node 24 where installed, through tsx as examples/node_embed.mts runs.
import assert from "node:assert/strict";
import { dirname } from "node:path";
import { IGNORE_WITHOUT_REDIS, startRedisServer } from "./_redis_server.ts";

const NODE24 = "/root/.npm/_npx/387698761821791d/node_modules/node/bin/node";
const hasNode24 = await Deno.stat(NODE24).then(() => true, () => false);
const CHILD = new URL("./_redis_node_child.mts", import.meta.url).pathname;

async function underNode(nodeBinDir: string | undefined, redisUrl: string): Promise<Record<string, unknown>> {
  // tsx keeps a compile cache in the temp dir: give it one this test removes.
  const tmp = await Deno.makeTempDir({ prefix: "openclaw-tsx-" });
  const path = nodeBinDir ? `${nodeBinDir}:${Deno.env.get("PATH")}` : Deno.env.get("PATH")!;
  try {
    const output = await new Deno.Command("npx", {
      args: ["--yes", "tsx@4", CHILD, redisUrl],
      env: { TMPDIR: tmp, PATH: path },
      stdout: "piped",
      stderr: "piped",
    }).output();
    const out = new TextDecoder().decode(output.stdout) + new TextDecoder().decode(output.stderr);
    assert.equal(output.code, 0, out);
    const line = out.split("\n").find((l) => l.startsWith("RESULT "));
    assert.ok(line, out);
    return JSON.parse(line.slice("RESULT ".length));
  } finally {
    await Deno.remove(tmp, { recursive: true });
  }
}

for (
  const [label, binDir, ignore] of [
    ["Node 20 (`node`)", undefined, false],
    ["Node 24", dirname(NODE24), !hasNode24],
  ] as const
) {
  Deno.test({
    name:
      `under ${label}: redisStores on a real Redis: an append read back, a bus event heard, a gateway started`,
    ignore: IGNORE_WITHOUT_REDIS || ignore,
    async fn() {
      const redis = await startRedisServer();
      try {
        const result = await underNode(binDir, redis.url);
        assert.match(String(result.node), binDir ? /^v24\./ : /^v20\./);
        assert.deepEqual(result.appended, [1]);
        assert.deepEqual(result.readBack, [[1, "from node"]], "the second bundle reads the first's append");
        assert.deepEqual(result.busPayload, { from: "a" }, "the second bundle hears the first's event");
        assert.equal(result.health, 200);
        assert.equal(result.helloOk, true);
        assert.deepEqual(result.presenceModes, ["gateway"], "the gateway's own row, seen through Redis");
      } finally {
        await redis.stop();
      }
    },
  });
}
