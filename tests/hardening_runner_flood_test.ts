// The runner (not just a bare gateway) under a descriptor flood: every part of it that reads files while
// descriptors are exhausted must keep going. The launcher watch used to read EMFILE from /proc as "my
// launcher is gone" and stopped the gateway in the middle of a flood.
import assert from "node:assert/strict";
import { connect } from "node:net";
import { join } from "node:path";
import { freePort, runnerEnv, spawnRunner, tempHome } from "./_runner_process.ts";

async function openIdle(port: number, count: number): Promise<{ destroy(): void }[]> {
  const sockets: { destroy(): void }[] = [];
  for (let i = 0; i < count; i++) {
    await new Promise<void>((resolve) => {
      const socket = connect(port, "127.0.0.1", () => resolve());
      socket.on("error", () => resolve());
      sockets.push(socket);
      setTimeout(resolve, 500);
    });
  }
  return sockets;
}

Deno.test({
  name: "runner: a flood that exhausts descriptors (RLIMIT_NOFILE 256) leaves the runner alive and serving",
  ignore: Deno.build.os !== "linux",
  async fn() {
    await using home = await tempHome();
    const port = freePort();
    await Deno.writeTextFile(
      join(home.state, "openclaw.json"),
      JSON.stringify({ gateway: { mode: "local", port, auth: { token: "flood-token-123" } } }),
    );
    // Started by this test's deno process, so the runner watches it as its launcher.
    const runner = spawnRunner(["gateway", "run", "--port", String(port)], runnerEnv(home.home));
    try {
      await runner.waitFor(/gateway listening/, 30_000);
      const limited = await new Deno.Command("prlimit", {
        args: ["--pid", String(runner.child.pid), "--nofile=256:256"],
      }).output();
      assert.ok(limited.success, "prlimit lowers the runner's descriptor limit");
      const flood = await openIdle(port, 400);
      // Long enough for the launcher watch (once a second) to read /proc while descriptors are gone.
      await new Promise((r) => setTimeout(r, 2_500));
      flood.forEach((s) => s.destroy());
      let status = 0;
      for (let i = 0; i < 50 && status !== 200; i++) {
        await new Promise((r) => setTimeout(r, 100));
        status = await fetch(`http://127.0.0.1:${port}/health`).then(
          async (r) => (await r.body?.cancel(), r.status),
          () => 0,
        );
      }
      assert.equal(
        status,
        200,
        `the runner serves again after the flood:\n${runner.lines.slice(-5).join("\n")}`,
      );
    } finally {
      await runner.stop("SIGTERM");
    }
  },
});
