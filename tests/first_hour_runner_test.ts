// The first hour, through the real runner: what a new user's mistakes and setups answer (messages, hints,
// exit codes), the reference's answer for a bad `model`, and the access log.
import assert from "node:assert/strict";
import { join } from "node:path";
import { invokedAs, rewriteHints } from "../runner/cli/invocation.ts";
import { otherGatewayHints } from "../runner/commands/ops/other-gateways.ts";
import { freePort, runnerEnv, runRunner, spawnRunner, tempHome } from "./_runner_process.ts";

const TOKEN = "first-hour-token-0123456789";

async function writeConfig(state: string, config: Record<string, unknown>): Promise<void> {
  await Deno.writeTextFile(join(state, "openclaw.json"), JSON.stringify(config));
}

function gatewayConfig(port: number, extra: Record<string, unknown> = {}) {
  return { gateway: { mode: "local", port, auth: { token: TOKEN }, ...extra } };
}

Deno.test("a port held by a program that is not a gateway fails at once with exit 78, naming it and --force", async () => {
  await using t = await tempHome();
  const port = freePort();
  await writeConfig(t.state, gatewayConfig(port));
  const server = Deno.serve({ hostname: "127.0.0.1", port, onListen() {} }, () => new Response("files"));
  try {
    // The default retry budget is 20 × 500 ms; a non-gateway holder must not wait for it.
    const busy = await runRunner(["gateway"], runnerEnv(t.home));
    assert.equal(busy.code, 78);
    assert.match(
      busy.stderr,
      new RegExp(
        `port ${port} on 127\\.0\\.0\\.1 is held by another program that is not an OpenClaw gateway \\(pid ${Deno.pid} \\(deno\\)\\)`,
      ),
    );
    assert.match(busy.stderr, /--force/);
    assert.doesNotMatch(busy.stdout, /port busy; retrying/);
  } finally {
    await server.shutdown();
  }
});

Deno.test("a port held by another gateway, and a second gateway on one state dir, both exit 78", async () => {
  await using a = await tempHome();
  await using b = await tempHome();
  const port = freePort();
  await writeConfig(a.state, gatewayConfig(port));
  await writeConfig(b.state, gatewayConfig(port));
  const first = spawnRunner(["gateway"], runnerEnv(a.home));
  try {
    await first.waitFor(/gateway listening/);
    const other = await runRunner(["gateway"], runnerEnv(b.home, { OPENCLAW_GATEWAY_BIND_RETRIES: "0" }));
    assert.equal(other.code, 78);
    assert.match(
      other.stderr,
      new RegExp(`another OpenClaw gateway is already listening on ws://127\\.0\\.0\\.1:${port}`),
    );
    assert.match(other.stderr, /--force/);
    const same = await runRunner(["gateway"], runnerEnv(a.home));
    assert.equal(same.code, 78);
    assert.match(same.stderr, /gateway already running \(pid \d+, port \d+\)/);
  } finally {
    assert.equal(await first.stop(), 0);
  }
});

Deno.test("status without --dev names the running dev gateway and how to reach it; a wrong token is one 'auth failed'", async () => {
  await using t = await tempHome();
  const devState = join(t.home, ".openclaw-dev");
  await Deno.mkdir(devState, { recursive: true });
  const devPort = freePort();
  await writeConfig(devState, gatewayConfig(devPort));
  await writeConfig(t.state, gatewayConfig(freePort()));
  const dev = spawnRunner(["--dev", "gateway"], runnerEnv(t.home));
  try {
    await dev.waitFor(/gateway listening/);
    const status = await runRunner(["status"], runnerEnv(t.home, { OPENCLAW_CLI_NAME: "openclaw" }));
    assert.equal(status.code, 1);
    assert.match(status.stdout, /unreachable/);
    assert.match(
      status.stdout,
      new RegExp(
        `A gateway is running for the dev profile on port ${devPort} \\(pid \\d+\\): \`openclaw --dev status\` talks to it\\.`,
      ),
    );
    const gwStatus = await runRunner(
      ["gateway", "status"],
      runnerEnv(t.home, { OPENCLAW_CLI_NAME: "openclaw" }),
    );
    assert.match(gwStatus.stdout, /`openclaw --dev gateway status` talks to it/);
    const health = await runRunner(["health"], runnerEnv(t.home, { OPENCLAW_CLI_NAME: "openclaw" }));
    assert.equal(health.code, 1);
    assert.match(health.stderr, /gateway unreachable .*A gateway is running for the dev profile/);

    const wrong = await runRunner(
      ["--dev", "status", "--token", "wrong-token-0123456789"],
      runnerEnv(t.home),
    );
    assert.equal(wrong.code, 1);
    const row = wrong.stdout.split("\n").find((l) => l.startsWith("Gateway"))!;
    assert.match(row, /auth failed at ws:\/\/127\.0\.0\.1:\d+/);
    assert.doesNotMatch(row, /unreachable/);
    assert.doesNotMatch(wrong.stdout, /^Next:/m);
    assert.equal(wrong.stdout.match(/check --token/g)?.length, 1);
  } finally {
    assert.equal(await dev.stop(), 0);
  }
});

Deno.test("hints name the command as it was started, with the run's profile flag", async () => {
  const none = { isExecutable: () => false, denoVersion: "2.9.6" };
  assert.equal(invokedAs({ ...none, env: { PATH: "/bin" } }), "deno task openclaw");
  assert.equal(
    invokedAs({ ...none, env: { PATH: "/bin", npm_command: "exec", npm_lifecycle_script: "deno" } }),
    "npx --yes deno@2.9.6 task openclaw",
  );
  assert.equal(
    invokedAs({ ...none, env: { PATH: "/x:/bin" }, isExecutable: (p) => p === "/x/openclaw" }),
    "openclaw",
  );
  assert.equal(
    rewriteHints(
      "Try `openclaw gateway status` or `openclaw --dev status`",
      "deno task openclaw",
      "deno task openclaw --profile w",
    ),
    "Try `deno task openclaw --profile w gateway status` or `deno task openclaw --dev status`",
  );
  // A hint that points a --dev run at the default profile's gateway keeps pointing there.
  const [toDefault] = otherGatewayHints([{ profile: "default", pid: 42, port: 18789 }], "gateway status");
  assert.match(
    rewriteHints(toDefault, "deno task openclaw", "deno task openclaw --dev"),
    /`deno task openclaw --profile default gateway status`/,
  );
  await using t = await tempHome();
  const down = await runRunner(
    ["--dev", "health", "--url", `ws://127.0.0.1:${freePort()}`, "--token", "x"],
    // A PATH with no `openclaw` on it, as on a fresh clone.
    runnerEnv(t.home, { PATH: "/usr/bin:/bin" }),
  );
  assert.equal(down.code, 1);
  assert.match(down.stderr, /Try `deno task openclaw --dev gateway status`/);
});

Deno.test("a `model` that names no agent gets the reference's answer; x-openclaw-model picks a provider model", async () => {
  await using t = await tempHome();
  const port = freePort();
  await writeConfig(t.state, {
    ...gatewayConfig(port, { http: { endpoints: { chatCompletions: { enabled: true } } } }),
    agents: { defaults: { model: "local/scripted-1" } },
  });
  const proc = spawnRunner(["gateway"], runnerEnv(t.home));
  try {
    await proc.waitFor(/gateway listening/);
    const chat = (model: string, headers: Record<string, string> = {}) =>
      fetch(`http://127.0.0.1:${port}/v1/chat/completions`, {
        method: "POST",
        headers: { authorization: `Bearer ${TOKEN}`, "content-type": "application/json", ...headers },
        body: JSON.stringify({ model, messages: [{ role: "user", content: "hello" }] }),
      });
    const bad = await chat("local/scripted-1");
    assert.equal(bad.status, 400);
    assert.deepEqual((await bad.json()).error, {
      message: "Invalid `model`. Use `openclaw` or `openclaw/<agentId>`.",
      type: "invalid_request_error",
    });
    const picked = await chat("openclaw", { "x-openclaw-model": "local/scripted-1" });
    assert.equal(picked.status, 200);
    assert.equal((await picked.json()).object, "chat.completion");
    // `openclaw status` says which model a chat reaches, the check the README's model section names.
    const status = await runRunner(["status", "--token", TOKEN], runnerEnv(t.home));
    assert.equal(status.code, 0, status.stdout + status.stderr);
    assert.match(status.stdout, /^Models\s+main → local\/scripted-1 \(built-in scripted model\)$/m);
  } finally {
    assert.equal(await proc.stop(), 0);
  }
});

Deno.test("chat off (setup profile): /v1/chat/completions is the reference's 404, and the log says once which setting enables it", async () => {
  await using t = await tempHome();
  const setup = await runRunner(["setup"], runnerEnv(t.home));
  assert.equal(setup.code, 0, setup.stderr);
  const port = freePort();
  const proc = spawnRunner(["gateway", "--port", String(port)], runnerEnv(t.home));
  try {
    await proc.waitFor(/gateway listening/);
    for (let i = 0; i < 2; i++) {
      const res = await fetch(`http://127.0.0.1:${port}/v1/chat/completions`, { method: "POST", body: "{}" });
      assert.equal(res.status, 404);
      assert.equal(await res.text(), "Not Found");
    }
    await proc.waitFor(/path=\/v1\/chat\/completions status=404/);
    const explained = proc.lines.filter((l) => /gateway\.http\.endpoints\.chatCompletions\.enabled/.test(l));
    assert.equal(explained.length, 1);
    assert.match(explained[0], /INFO/);
  } finally {
    assert.equal(await proc.stop(), 0);
  }
});

Deno.test("access log: HTTP requests and WS connect/disconnect at info in the console and the JSONL file, never the token", async () => {
  await using t = await tempHome();
  const port = freePort();
  await writeConfig(
    t.state,
    gatewayConfig(port, { http: { endpoints: { chatCompletions: { enabled: true } } } }),
  );
  const proc = spawnRunner(["gateway"], runnerEnv(t.home));
  try {
    await proc.waitFor(/gateway listening/);
    const ok = await fetch(`http://127.0.0.1:${port}/v1/models?token=${TOKEN}`, {
      headers: { authorization: `Bearer ${TOKEN}` },
    });
    await ok.body?.cancel();
    const refused = await fetch(`http://127.0.0.1:${port}/v1/models`, {
      headers: { authorization: "Bearer nope" },
    });
    await refused.body?.cancel();
    const ws = new WebSocket(`ws://127.0.0.1:${port}`);
    await new Promise((resolve) => (ws.onmessage = resolve));
    ws.close(1000, "bye");
    await proc.waitFor(
      /\[access\] client disconnected .*code=1000 reason=bye closedBy=client durationMs=\d+/,
    );
    await proc.waitFor(
      /\[access\] http request method=GET path=\/v1\/models status=\d+ durationMs=[\d.]+ auth=refused/,
    );
  } finally {
    assert.equal(await proc.stop(), 0);
  }
  assert.ok(proc.lines.every((l) => !l.includes(TOKEN)));
  const logDir = join(t.state, "logs");
  const files = await Array.fromAsync(Deno.readDir(logDir));
  const text = (await Promise.all(files.map((f) => Deno.readTextFile(join(logDir, f.name))))).join("");
  assert.ok(!text.includes(TOKEN));
  const records = text.trim().split("\n").map((l) => JSON.parse(l));
  const access = records.filter((r) => r.subsystem === "access");
  assert.ok(access.some((r) => r.msg === "http request" && r.path === "/v1/models" && r.level === "info"));
  assert.ok(access.some((r) => r.msg === "http request" && r.auth === "refused" && r.status === 401));
  assert.ok(access.some((r) => r.msg === "client disconnected" && r.reason === "bye" && r.durationMs >= 0));
});

Deno.test("no user systemd (a container): gateway status says so plainly; a failed install leaves no folders behind", async () => {
  await using t = await tempHome();
  await writeConfig(t.state, gatewayConfig(freePort()));
  const bin = join(t.home, "bin");
  await Deno.mkdir(bin);
  // systemctl as it answers in a container without a user bus.
  await Deno.writeTextFile(
    join(bin, "systemctl"),
    "#!/bin/sh\necho 'Failed to connect to bus: No medium found' >&2\nexit 1\n",
    { mode: 0o755 },
  );
  const env = runnerEnv(t.home, { PATH: `${bin}:${Deno.env.get("PATH") ?? "/usr/bin:/bin"}` });
  const status = await runRunner(["gateway", "status"], env);
  const all = `${status.stdout}\n${status.stderr}`;
  assert.match(all, /systemd user services are not available here/);
  assert.doesNotMatch(all, /Failed to connect to bus/);
  const install = await runRunner(["gateway", "install"], env);
  assert.notEqual(install.code, 0);
  assert.match(install.stderr, /systemd user services are not available here/);
  const leftovers = await Array.fromAsync(Deno.readDir(t.home)).then((e) => e.map((x) => x.name));
  assert.ok(!leftovers.includes(".config"), `left behind: ${leftovers}`);
  assert.deepEqual(
    (await Array.fromAsync(Deno.readDir(t.state))).map((e) => e.name).filter((n) => n === "service-env"),
    [],
  );
});

Deno.test("a gateway whose launcher is killed (npx … task dev stopped with SIGTERM) stops instead of serving on", async () => {
  await using t = await tempHome();
  const port = freePort();
  await writeConfig(t.state, gatewayConfig(port));
  // node stands for npx: on SIGTERM it exits and does not pass the signal on.
  const main = new URL("../runner/main.ts", import.meta.url).pathname;
  const launcher = new Deno.Command("node", {
    args: [
      "-e",
      "require('child_process').spawn(process.argv[1], process.argv.slice(2), { stdio: 'inherit' }); setInterval(() => {}, 1000);",
      Deno.execPath(),
      "run",
      "-A",
      main,
      "gateway",
    ],
    env: runnerEnv(t.home),
    clearEnv: true,
    stdout: "null",
    stderr: "null",
  }).spawn();
  const lock = join(t.state, "tmp", `openclaw-${Deno.uid()}`, "gateway.lock");
  let runnerPid = 0;
  for (let i = 0; i < 200 && !runnerPid; i++) {
    await new Promise((r) => setTimeout(r, 100));
    const owner = await Deno.readTextFile(lock).then(JSON.parse).catch(() => undefined);
    if (owner?.port === port) runnerPid = owner.pid;
  }
  assert.ok(runnerPid > 0, "the gateway never came up");
  launcher.kill("SIGTERM");
  await launcher.status;
  let alive = true;
  for (let i = 0; i < 150 && alive; i++) {
    await new Promise((r) => setTimeout(r, 100));
    alive = await Deno.stat(`/proc/${runnerPid}`).then(() => true, () => false);
  }
  if (alive) Deno.kill(runnerPid, "SIGKILL");
  assert.equal(alive, false, "the gateway kept running after its launcher was gone");
  // It stopped the orderly way: the lock is released.
  assert.equal(await Deno.stat(lock).then(() => true, () => false), false);
});

Deno.test("a port held by a draining gateway (sockets refused, /health live) is retried and taken once it is free", async () => {
  await using t = await tempHome();
  const port = freePort();
  await writeConfig(t.state, gatewayConfig(port));
  const draining = Deno.serve(
    { hostname: "127.0.0.1", port, onListen() {} },
    (request) =>
      new URL(request.url).pathname === "/health"
        ? Response.json({ ok: true, status: "live" })
        : new Response("Gateway stopping", { status: 503 }),
  );
  const runner = spawnRunner(["gateway"], runnerEnv(t.home));
  try {
    await runner.waitFor(/port busy; retrying/, 20_000);
    await draining.shutdown();
    await runner.waitFor(/gateway listening/, 20_000);
  } finally {
    await draining.shutdown().catch(() => {});
    assert.equal(await runner.stop(), 0);
  }
});
