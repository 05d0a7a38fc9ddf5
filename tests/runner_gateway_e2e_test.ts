// The runner as a real process: --dev first run, /health, a WS client across a hot reload, an in-process
// restart and a broken edit, SIGTERM; plus the start guards (mode, bind, busy port, locks, env port).
import assert from "node:assert/strict";
import { join } from "node:path";
import { connectGateway, type GatewayConnection } from "../lib/client/connection.ts";
import type { EventFrame } from "../lib/client/frames.ts";
import { lockPath } from "../runner/gateway/lock.ts";
import { freePort, runnerEnv, runRunner, spawnRunner } from "./_runner_process.ts";
import { tempDir } from "./_helpers.ts";

const CLIENT = { id: "cli", mode: "cli", version: "test", platform: "linux" };

async function connect(port: number, token: string, events: EventFrame[] = []): Promise<GatewayConnection> {
  return await connectGateway({
    url: `ws://127.0.0.1:${port}`,
    WebSocket,
    client: CLIENT,
    token,
    scopes: ["operator.admin", "operator.read"],
    onEvent: (frame) => events.push(frame),
  });
}

async function until(check: () => boolean, what: string, timeoutMs = 10_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!check()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 25));
  }
}

Deno.test("--dev first run: token printed once, /health, hot reload, restart, broken edit, SIGTERM", async () => {
  const home = await tempDir();
  const port = freePort();
  const proc = spawnRunner(["--dev", "gateway", "--port", String(port)], runnerEnv(home));
  try {
    const tokenLine = await proc.waitFor(/^Gateway token \(shown once/);
    const token = tokenLine.split(": ").at(-1)!;
    assert.match(token, /^[0-9a-f]{48}$/);
    await proc.waitFor(new RegExp(`gateway listening .*port=${port}`));
    const health = await fetch(`http://127.0.0.1:${port}/health`);
    assert.equal(health.status, 200);
    assert.deepEqual(await health.json(), { ok: true, status: "live" });

    const configPath = join(home, ".openclaw-dev", "openclaw.json");
    const config = JSON.parse(await Deno.readTextFile(configPath));
    assert.equal(config.gateway.http.endpoints.chatCompletions.enabled, true);
    assert.equal(config.agents.defaults.model.primary, "local/scripted-1");
    // The dev profile chats on the built-in model, no API key needed.
    const chat = await fetch(`http://127.0.0.1:${port}/v1/chat/completions`, {
      method: "POST",
      headers: { authorization: `Bearer ${token}`, "content-type": "application/json" },
      body: JSON.stringify({ model: "openclaw", messages: [{ role: "user", content: "hello" }] }),
    });
    assert.equal(chat.status, 200);
    const completion = await chat.json();
    assert.equal(typeof completion.choices[0].message.content, "string");

    const events: EventFrame[] = [];
    const client = await connect(port, token, events);
    assert.equal(client.hello.snapshot.configPath, configPath);

    // Hot key: the connected client sees config.changed and stays connected.
    config.logging = { level: "debug" };
    await Deno.writeTextFile(configPath, JSON.stringify(config));
    await until(() => events.some((e) => e.event === "config.changed"), "config.changed");
    await proc.waitFor(/config hot-applied paths=\["logging"\]/);
    assert.equal((await client.request<{ ok: boolean }>("health")).ok, true);

    // Broken edit: logged with the reason, the old config keeps serving.
    await Deno.writeTextFile(configPath, "{ gateway: { mode: 'local', ");
    await proc.waitFor(/config reload skipped \(invalid config\): .*JSON5 syntax error/);
    assert.equal((await client.request<{ ok: boolean }>("health")).ok, true);
    assert.equal((await fetch(`http://127.0.0.1:${port}/health`)).status, 200);

    // Restart key (the token): clients get shutdown with a restart hint; the new token works, the old fails.
    config.gateway.auth.token = "rotated-token-0123456789";
    await Deno.writeTextFile(configPath, JSON.stringify(config));
    await until(() => events.some((e) => e.event === "shutdown"), "shutdown event");
    const shutdown = events.find((e) => e.event === "shutdown")!.payload as Record<string, unknown>;
    assert.match(String(shutdown.reason), /config change: gateway\.auth\.token/);
    assert.equal(typeof shutdown.restartExpectedMs, "number");
    await proc.waitFor(/gateway restarted/);
    const rotated = await connect(port, "rotated-token-0123456789");
    await assert.rejects(connect(port, token));

    // SIGTERM: shutdown event with the signal as reason, exit 0, lock removed.
    const finalEvents: EventFrame[] = [];
    const last = await connect(port, "rotated-token-0123456789", finalEvents);
    rotated.close();
    client.close();
    assert.equal(await proc.stop("SIGTERM"), 0);
    assert.match(
      String((finalEvents.find((e) => e.event === "shutdown")?.payload as { reason?: string })?.reason),
      /SIGTERM/,
    );
    last.close();
    await assert.rejects(Deno.stat(lockPath(join(home, ".openclaw-dev"))), Deno.errors.NotFound);
    const logs = [...Deno.readDirSync(join(home, ".openclaw-dev", "logs"))].map((e) => e.name);
    assert.ok(logs.some((n) => /^openclaw-dev-\d{4}-\d\d-\d\d\.log$/.test(n)), `log file in ${logs}`);
    // The token is never written to the log in clear.
    const logText = await Deno.readTextFile(join(home, ".openclaw-dev", "logs", logs[0]));
    assert.ok(!logText.includes(token) && !logText.includes("rotated-token-0123456789"));
    // A second --dev run reuses the config and prints no token.
    const again = spawnRunner(["--dev", "gateway", "--port", String(port)], runnerEnv(home));
    await again.waitFor(/gateway listening/);
    assert.equal(await again.stop("SIGINT"), 0);
    assert.ok(!again.lines.some((l) => l.startsWith("Gateway token")));
  } finally {
    await proc.stop("SIGKILL");
  }
});

Deno.test("start guards: unconfigured, bind without auth, busy port", async () => {
  const home = await tempDir();
  const port = freePort();
  const blocked = await runRunner(["gateway", "--port", String(port)], runnerEnv(home));
  assert.equal(blocked.code, 78);
  assert.match(blocked.stderr, /Gateway start blocked: set gateway\.mode=local/);

  const unsafe = await runRunner(
    ["gateway", "--allow-unconfigured", "--bind", "lan", "--auth", "none", "--port", String(port)],
    runnerEnv(home),
  );
  assert.equal(unsafe.code, 78);
  assert.match(unsafe.stderr, /refusing to bind gateway .*without auth/);

  const holder = Deno.listen({ hostname: "127.0.0.1", port });
  try {
    const busy = await runRunner(
      ["gateway", "--allow-unconfigured", "--token", "t0123456789", "--port", String(port)],
      runnerEnv(home, { OPENCLAW_GATEWAY_BIND_RETRIES: "0" }),
    );
    assert.equal(busy.code, 78);
    assert.match(busy.stderr, new RegExp(`port ${port} on 127\\.0\\.0\\.1 is held by another program`));
  } finally {
    holder.close();
  }
});

Deno.test("a stale lock is taken over; OPENCLAW_GATEWAY_PORT beats gateway.port; a live lock refuses", async () => {
  const home = await tempDir();
  const stateDir = join(home, ".openclaw");
  const port = freePort();
  await Deno.mkdir(stateDir, { recursive: true });
  await Deno.writeTextFile(
    join(stateDir, "openclaw.json"),
    JSON.stringify({ gateway: { mode: "local", port: 1, auth: { token: "tok-0123456789abcdef" } } }),
  );
  const stale = lockPath(stateDir);
  await Deno.mkdir(join(stale, ".."), { recursive: true });
  await Deno.writeTextFile(
    stale,
    JSON.stringify({ pid: 2 ** 22 + 12345, port: 9, startedAt: "then", configPath: "x" }),
  );
  const proc = spawnRunner(["gateway"], runnerEnv(home, { OPENCLAW_GATEWAY_PORT: String(port) }));
  try {
    await proc.waitFor(new RegExp(`gateway listening .*port=${port}`));
    const owner = JSON.parse(await Deno.readTextFile(stale));
    assert.equal(owner.port, port);
    assert.notEqual(owner.pid, 2 ** 22 + 12345);
    const second = await runRunner(["gateway", "--port", String(freePort())], runnerEnv(home));
    assert.equal(second.code, 78);
    assert.match(second.stderr, new RegExp(`gateway already running \\(pid ${owner.pid}, port ${port}\\)`));
  } finally {
    assert.equal(await proc.stop(), 0);
  }
});
