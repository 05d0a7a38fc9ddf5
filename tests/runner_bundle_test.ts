// The bundled runner (`deno task build`), which the installed CLI and the OS service run: it starts a
// gateway with no deno.json or node_modules beside it, answers a chat through the built-in model, and
// names itself (with BUNDLE_RUN_FLAGS: --no-config, lazy dynamic imports) as the command a service would run.
import assert from "node:assert/strict";
import { join } from "node:path";
import { BUNDLE_RUN_FLAGS } from "../runner/commands/ops/host.ts";
import { buildRunner } from "../scripts/build_runner.ts";
import { freePort, runnerEnv, spawnRunner, tempHome } from "./_runner_process.ts";

const TOKEN = "bundle-token-0123456789abcdef";

Deno.test("the bundled runner serves a chat and reports itself as the service command", async () => {
  await using t = await tempHome();
  // Outside the repository: nothing may be resolved through its deno.json or node_modules.
  const main = await buildRunner(join(t.home, "dist"));
  const port = freePort();
  await Deno.writeTextFile(
    join(t.state, "openclaw.json"),
    JSON.stringify({
      gateway: {
        mode: "local",
        port,
        auth: { token: TOKEN },
        http: { endpoints: { chatCompletions: { enabled: true } } },
      },
    }),
  );
  const env = runnerEnv(t.home);
  const gateway = spawnRunner(["gateway"], env, { entry: main, denoFlags: [...BUNDLE_RUN_FLAGS] });
  try {
    await gateway.waitFor(/gateway listening/);
    const reply = await fetch(`http://127.0.0.1:${port}/v1/chat/completions`, {
      method: "POST",
      headers: { authorization: `Bearer ${TOKEN}`, "content-type": "application/json" },
      body: JSON.stringify({ model: "openclaw", messages: [{ role: "user", content: "hello" }] }),
    });
    assert.equal(reply.status, 200, await reply.clone().text());
    const body = await reply.json();
    assert.equal(body.object, "chat.completion");
    assert.ok(body.choices[0].message.content.length > 0);

    const status = spawnRunner(["gateway", "status", "--json"], env, {
      entry: main,
      denoFlags: [...BUNDLE_RUN_FLAGS],
    });
    assert.equal((await status.status).code, 0, status.stderr.join("\n"));
    const report = JSON.parse(status.lines.join("\n"));
    assert.equal(report.cli.entrypoint, `${Deno.execPath()} run -A ${BUNDLE_RUN_FLAGS.join(" ")} ${main}`);
  } finally {
    await gateway.stop();
  }
});
