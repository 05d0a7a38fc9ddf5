// What the bundled runner loads to serve a gateway that uses no optional feature (bench/idle_rss.ts
// measures the memory this saves): zod without its 40-odd locales (kept out by importing zod as a
// namespace everywhere), and the features that load on first use (cron, nodes, exec approvals, the /v1
// handlers) in chunks of their own that `gateway run` does not import until they are needed.
import assert from "node:assert/strict";
import { join } from "node:path";
import { buildRunner } from "../scripts/build_runner.ts";

/** The chunks `entries` import statically, transitively (dynamic `import()`s are not followed). */
function staticClosure(dir: string, entries: string[]): Set<string> {
  const seen = new Set<string>();
  const visit = (file: string) => {
    if (seen.has(file)) return;
    seen.add(file);
    const text = Deno.readTextFileSync(join(dir, file));
    for (const [, chunk] of text.matchAll(/(?:^|[;}\s])import(?:[^"'()]*?from)?\s*"\.\/([^"]+)"/g)) {
      visit(chunk);
    }
  };
  entries.forEach(visit);
  return seen;
}

Deno.test("the bundled runner: no zod locale, and features loaded on first use stay out of gateway run's chunks", async () => {
  const dir = await Deno.makeTempDir();
  try {
    await buildRunner(dir);
    const chunks = [...Deno.readDirSync(dir)].map((entry) => entry.name).filter((name) =>
      name.endsWith(".js")
    );
    const text = new Map(chunks.map((name) => [name, Deno.readTextFileSync(join(dir, name))]));
    // Dutch is one of zod's locales; English (its default) is the only one the gateway uses.
    assert.deepEqual(chunks.filter((name) => text.get(name)!.includes("Ongeldige")), []);

    const gatewayRun = chunks.filter((name) => name.startsWith("gateway-run-"));
    assert.equal(gatewayRun.length, 1, chunks.join(" "));
    const loaded = staticClosure(dir, ["main.js", ...gatewayRun]);
    // A string only each lazily loaded part holds: cron's methods, nodes' methods, the exec approval
    // methods' params, the chat completions stream.
    for (
      const marker of [
        "CRON_JOB_NOT_FOUND",
        "NOT_CONNECTED",
        "approvalReviewerDeviceIds",
        "chat.completion.chunk",
      ]
    ) {
      const holders = chunks.filter((name) => text.get(name)!.includes(marker));
      assert.ok(holders.length > 0, `${marker} is in no chunk`);
      assert.deepEqual(holders.filter((name) => loaded.has(name)), [], `${marker} loads with gateway run`);
    }
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});
