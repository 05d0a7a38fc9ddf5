// Service lifecycle and doctor through the CLI, in a temporary HOME with a recording init system:
// install writes a unit that records the port, doctor finds the drift after a config change, --fix
// repairs it (backup first) unless an external supervisor owns the service.
import assert from "node:assert/strict";
import { dirname } from "node:path";
import { lockPath } from "../runner/gateway/lock.ts";
import {
  fakeLinuxHost,
  freePort,
  OPS_TOKEN,
  recordingRunner,
  runOps,
  withTempDir,
  writeConfig,
} from "./_ops_fakes.ts";

const active = (_cmd: string, args: string[]) =>
  args.includes("show")
    ? { stdout: "LoadState=loaded\nActiveState=active\nSubState=running\nMainPID=321\n" }
    : undefined;

async function home(
  body: (
    ctx: {
      home: string;
      unit: string;
      calls: string[];
      run: (argv: string[], env?: Record<string, string>) => ReturnType<typeof runOps>;
    },
  ) => Promise<void>,
) {
  await withTempDir(async (dir) => {
    const { run, calls } = recordingRunner(active);
    const host = fakeLinuxHost(dir, run);
    await body({
      home: dir,
      unit: `${dir}/.config/systemd/user/openclaw-gateway.service`,
      calls,
      run: (argv, env = {}) => runOps(host, argv, { HOME: dir, ...env }),
    });
  });
}

Deno.test("install records the config port; doctor finds the drift after a port change and --fix repairs it", async () => {
  await home(async ({ home, unit, calls, run }) => {
    const portA = freePort();
    const config = await writeConfig(home, {
      gateway: { mode: "local", port: portA, auth: { token: OPS_TOKEN } },
    });
    const install = await run(["gateway", "install"]);
    assert.equal(install.code, 0, install.err);
    assert.match(
      install.out,
      new RegExp(`^Installed: systemd openclaw-gateway\\.service \\(port ${portA}\\)$`, "m"),
    );
    assert.match(
      await Deno.readTextFile(unit),
      new RegExp(
        `^ExecStart=/usr/local/bin/deno run -A /srv/openclaw/runner/main\\.ts gateway run --port ${portA}$`,
        "m",
      ),
    );
    assert.deepEqual(calls, [
      "systemctl --user daemon-reload",
      "systemctl --user enable --now openclaw-gateway.service",
    ]);

    const again = await run(["gateway", "install"]);
    assert.match(again.out, /^Already installed: /m);

    const clean = await run(["doctor"]);
    assert.equal(clean.code, 0, clean.out);
    assert.match(clean.out, /^\[ok\] service: openclaw-gateway\.service matches the config \(running\)$/m);

    // The OS may hand the same free port out twice in a row; a drift needs a different one.
    let portB = freePort();
    while (portB === portA) portB = freePort();
    await writeConfig(home, { gateway: { mode: "local", port: portB, auth: { token: OPS_TOKEN } } });
    const status = JSON.parse((await run(["gateway", "status", "--json", "--no-probe"])).out);
    assert.equal(status.service.command.port, portA);
    assert.equal(status.service.configAudit.ok, false);
    assert.equal(status.service.configAudit.issues[0].code, "port-drift");

    const drift = await run(["doctor"]);
    assert.equal(drift.code, 1);
    assert.match(
      drift.out,
      /^\[error\] service-port-drift: Gateway service port does not match current gateway config \(service --port \d+, config \d+\)/m,
    );
    assert.match(drift.out, /Run `openclaw doctor --fix`/);

    calls.length = 0;
    const fixed = await run(["doctor", "--fix", "--non-interactive"]);
    assert.equal(fixed.code, 0, fixed.out);
    assert.match(fixed.out, /^\[fixed\] service-port-drift: /m);
    assert.match(await Deno.readTextFile(unit), new RegExp(`--port ${portB}$`, "m"));
    assert.match(await Deno.readTextFile(`${unit}.bak`), new RegExp(`--port ${portA}$`, "m"));
    assert.ok(calls.includes("systemctl --user restart openclaw-gateway.service"), calls.join("\n"));
    assert.equal((await run(["doctor"])).code, 0);
    assert.equal((await Deno.stat(config)).mode! & 0o777, 0o600);
  });
});

Deno.test("doctor leaves the service alone under OPENCLAW_SERVICE_REPAIR_POLICY=external", async () => {
  await home(async ({ home, unit, run }) => {
    await writeConfig(home, { gateway: { mode: "local", port: 20001, auth: { token: OPS_TOKEN } } });
    assert.equal((await run(["gateway", "install"])).code, 0);
    await writeConfig(home, { gateway: { mode: "local", port: 20002, auth: { token: OPS_TOKEN } } });
    const result = await run(["doctor", "--fix", "--json"], { OPENCLAW_SERVICE_REPAIR_POLICY: "external" });
    assert.equal(result.code, 1);
    const doc = JSON.parse(result.out);
    const drift = doc.checks.find((c: { id: string }) => c.id === "service-port-drift");
    assert.equal(drift.fixed, undefined);
    assert.match(drift.repair, /OPENCLAW_SERVICE_REPAIR_POLICY=external/);
    assert.match(await Deno.readTextFile(unit), /--port 20001$/m);
  });
});

Deno.test("doctor --fix repairs permissions, mode, missing token and a stale lock, with a config backup", async () => {
  await home(async ({ home, run }) => {
    const config = await writeConfig(home, { gateway: { port: freePort() } });
    await Deno.chmod(config, 0o644);
    await Deno.chmod(`${home}/.openclaw`, 0o755);
    const lock = lockPath(`${home}/.openclaw`);
    await Deno.mkdir(dirname(lock), { recursive: true });
    await Deno.writeTextFile(lock, JSON.stringify({ pid: 2 ** 22 + 12345, port: 1 }));

    const before = JSON.parse((await run(["doctor", "--json"])).out);
    const status = Object.fromEntries(
      before.checks.map((c: { id: string; status: string }) => [c.id, c.status]),
    );
    assert.equal(status["config-permissions"], "warn");
    assert.equal(status["state-dir-permissions"], "warn");
    assert.equal(status["gateway-mode"], "warn");
    assert.equal(status.auth, "error");
    assert.equal(status.lock, "warn");
    assert.equal(before.ok, false);

    const fixed = await run(["doctor", "--fix"]);
    assert.equal(fixed.code, 0, fixed.out);
    assert.equal((await Deno.stat(config)).mode! & 0o777, 0o600);
    assert.equal((await Deno.stat(`${home}/.openclaw`)).mode! & 0o777, 0o700);
    const written = JSON.parse(await Deno.readTextFile(config));
    assert.equal(written.gateway.mode, "local");
    assert.match(written.gateway.auth.token, /^[0-9a-f]{48}$/);
    assert.ok(
      JSON.parse(await Deno.readTextFile(`${config}.bak`)).gateway.port,
      "the previous config is kept as .bak",
    );
    await assert.rejects(Deno.stat(lock), Deno.errors.NotFound);
    const after = JSON.parse((await run(["doctor", "--json"])).out);
    assert.equal(after.ok, true);
  });
});

Deno.test("doctor reports a port held by something that is not a gateway, and an invalid config", async () => {
  await home(async ({ home, run }) => {
    const server = Deno.serve(
      { hostname: "127.0.0.1", port: 0, onListen() {} },
      () => new Response("not a gateway", { status: 404 }),
    );
    try {
      await writeConfig(home, {
        gateway: { mode: "local", port: server.addr.port, auth: { token: OPS_TOKEN } },
      });
      const result = await run(["doctor"]);
      assert.equal(result.code, 1);
      assert.match(
        result.out,
        /^\[error\] port: port \d+ is held by another process that does not speak the gateway protocol/m,
      );
    } finally {
      await server.shutdown();
    }
    await writeConfig(home, { gateway: { port: "not-a-number" } });
    const invalid = await run(["doctor"]);
    assert.equal(invalid.code, 1);
    assert.match(invalid.out, /^\[error\] config: .*gateway\.port/m);
    const install = await run(["gateway", "install"]);
    assert.equal(install.code, 78);
    assert.match(install.err, /config is invalid/);
  });
});

Deno.test("lifecycle: start needs an install, stop of nothing is fine, external supervisors refuse native actions", async () => {
  await home(async ({ home, calls, run }) => {
    await writeConfig(home, { gateway: { mode: "local", auth: { token: OPS_TOKEN } } });
    const start = await run(["gateway", "start"]);
    assert.equal(start.code, 1);
    assert.match(start.err, /not installed .*Run `openclaw gateway install` first/);
    const stop = await run(["gateway", "stop"]);
    assert.equal(stop.code, 0);
    assert.match(stop.out, /not installed; nothing to stop/);
    const refused = await run(["gateway", "install"], { OPENCLAW_SUPERVISOR_MODE: "external" });
    assert.equal(refused.code, 1);
    assert.match(refused.err, /external supervisor owns/);
    assert.deepEqual(calls.filter((c) => !c.includes(" show ")), [], "nothing but status queries ran");

    assert.equal((await run(["gateway", "install", "--port", "20100", "--token", "svc-token-123"])).code, 0);
    const envFile = await Deno.readTextFile(`${home}/.openclaw/service-env/openclaw-gateway.env`);
    assert.match(envFile, /^OPENCLAW_GATEWAY_TOKEN=svc-token-123$/m);
    calls.length = 0;
    const running = await run(["gateway", "start"]);
    assert.match(running.out, /already running \(pid 321\)/);
    assert.equal((await run(["gateway", "restart"])).code, 0);
    const stopJson = JSON.parse((await run(["gateway", "stop", "--disable", "--json"])).out);
    assert.equal(stopJson.ok, true);
    const removed = await run(["gateway", "uninstall"]);
    assert.match(removed.out, /^Removed systemd openclaw-gateway\.service/);
    assert.deepEqual(calls.filter((c) => !c.includes(" show ")), [
      "systemctl --user restart openclaw-gateway.service",
      "systemctl --user disable --now openclaw-gateway.service",
      "systemctl --user disable --now openclaw-gateway.service",
      "systemctl --user daemon-reload",
    ]);
  });
});
