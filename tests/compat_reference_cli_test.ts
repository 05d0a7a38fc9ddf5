// The reference `openclaw` CLI (the npm package, on Node 24) driving this gateway: the drop-in claim
// from the operator's side. Needs the reference installed as bench/README.md describes (it is ~1 GB,
// so a fresh clone skips this test and says why).
import assert from "node:assert/strict";
import { join } from "node:path";
import { freePort, runnerEnv, spawnRunner } from "./_runner_process.ts";

const REFERENCE_DIR = Deno.env.get("OPENCLAW_REFERENCE_DIR") ?? "/tmp/refgw";
const BIN = join(REFERENCE_DIR, "node_modules", ".bin");
const installed = (() => {
  try {
    return Deno.statSync(join(BIN, "openclaw")).isFile && Deno.statSync(join(BIN, "node")).isFile;
  } catch {
    return false;
  }
})();
if (!installed) {
  console.warn(`skipping the reference-CLI test: no openclaw/node in ${BIN} (see bench/README.md)`);
}

async function reference(args: string[], home: string) {
  const output = await new Deno.Command(join(BIN, "openclaw"), {
    args,
    env: { HOME: home, PATH: `${BIN}:${Deno.env.get("PATH")}`, NO_COLOR: "1" },
    clearEnv: true,
    stdout: "piped",
    stderr: "piped",
  }).output();
  const text = new TextDecoder().decode(output.stdout) + new TextDecoder().decode(output.stderr);
  return { code: output.code, text };
}

Deno.test({
  name: "the reference openclaw CLI probes, calls and tails logs of this gateway",
  ignore: !installed,
}, async () => {
  const home = await Deno.makeTempDir();
  const refHome = await Deno.makeTempDir();
  const port = freePort();
  const gateway = spawnRunner(["--dev", "gateway", "--port", String(port)], runnerEnv(home));
  try {
    const tokenLine = await gateway.waitFor(/Gateway token .*: [0-9a-f]+/, 30_000);
    const token = tokenLine.split(": ").at(-1)!;
    await gateway.waitFor(/gateway listening/, 30_000);
    const url = `ws://127.0.0.1:${port}`;

    const health = await reference(["gateway", "health", "--url", url, "--token", token], refHome);
    assert.equal(health.code, 0, health.text);
    assert.match(health.text, /OK/);

    const status = await reference(
      ["gateway", "call", "status", "--url", url, "--token", token, "--json"],
      refHome,
    );
    assert.equal(status.code, 0, status.text);
    assert.match(status.text, /"builtInLocalModel": true/);

    const probe = await reference(["gateway", "probe", "--url", url, "--token", token], refHome);
    assert.match(probe.text, new RegExp(`${url}[\\s\\S]*Connect: ok`), probe.text);

    const logs = await reference(["logs", "--limit", "20", "--url", url, "--token", token], refHome);
    assert.equal(logs.code, 0, logs.text);
    assert.match(logs.text, /client connected/);

    const wrong = await reference(["gateway", "health", "--url", url, "--token", "wrong-token"], refHome);
    assert.notEqual(wrong.code, 0, wrong.text);
    assert.match(wrong.text, /unauthorized|mismatch/i);
  } finally {
    assert.equal(await gateway.stop(), 0);
    await Deno.remove(home, { recursive: true });
    await Deno.remove(refHome, { recursive: true });
  }
});
