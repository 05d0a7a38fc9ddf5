// README's first command, `deno task dev`, run for real: it builds the runner bundle (the form the installed
// CLI and the service run, which idles in less memory than the sources: bench/idle_rss.ts) from the
// current sources and starts the dev profile's gateway from it; a chat works with the printed token and
// no API key; stopping the task stops the gateway under it (README: "Ctrl-C, or SIGTERM").
import assert from "node:assert/strict";
import { freePort, runnerEnv, tempHome } from "./_runner_process.ts";

const ROOT = new URL("..", import.meta.url).pathname;

/** The command lines of the processes now running that contain every one of `needles`. */
async function processesWith(...needles: string[]): Promise<string[]> {
  const found: string[] = [];
  for await (const entry of Deno.readDir("/proc")) {
    if (!/^\d+$/.test(entry.name)) continue;
    const cmdline = await Deno.readTextFile(`/proc/${entry.name}/cmdline`).catch(() => "");
    if (needles.every((needle) => cmdline.includes(needle))) found.push(cmdline.replaceAll("\0", " ").trim());
  }
  return found;
}

Deno.test({
  name: "deno task dev builds the bundle, serves a chat with the printed token, and stops with the task",
  ignore: Deno.build.os !== "linux",
  async fn() {
    await using t = await tempHome();
    const port = freePort();
    const task = new Deno.Command(Deno.execPath(), {
      args: ["task", "--quiet", "dev", "--port", String(port)],
      cwd: ROOT,
      env: runnerEnv(t.home),
      clearEnv: true,
      stdout: "piped",
      stderr: "piped",
    }).spawn();
    const out = task.stdout.pipeThrough(new TextDecoderStream());
    let printed = "";
    const reader = out.getReader();
    try {
      const deadline = Date.now() + 120_000;
      while (!/gateway listening/.test(printed) && Date.now() < deadline) {
        const { value, done } = await reader.read();
        if (done) break;
        printed += value;
      }
      assert.match(printed, /gateway listening/, printed);
      const token = printed.match(/token[^\n]*?([0-9a-f]{32,})/i)?.[1];
      assert.ok(token, `the task prints the generated token: ${printed}`);
      const running = await processesWith("dist-dev/main.js", `${port}`);
      assert.equal(running.length, 1, `one gateway runs the bundle: ${running.join(" | ")}`);
      assert.ok(running[0].includes("--no-config --unstable-lazy-dynamic-imports"), running[0]);

      const reply = await fetch(`http://127.0.0.1:${port}/v1/chat/completions`, {
        method: "POST",
        headers: { authorization: `Bearer ${token}`, "content-type": "application/json" },
        body: JSON.stringify({ model: "openclaw", messages: [{ role: "user", content: "hello" }] }),
      });
      assert.equal(reply.status, 200, await reply.clone().text());
      assert.ok((await reply.json()).choices[0].message.content.length > 0);
    } finally {
      task.kill("SIGTERM");
      await task.status;
      reader.releaseLock();
      await out.cancel().catch(() => {});
      await task.stderr.cancel().catch(() => {});
    }
    // The gateway under the task went with it: nothing listens on its port any more.
    await assert.rejects(Deno.connect({ hostname: "127.0.0.1", port }).then((c) => c.close()));
    assert.deepEqual(await processesWith("dist-dev/main.js", `${port}`), []);
  },
});
