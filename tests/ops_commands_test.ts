// Operator commands end to end: the CLI dispatcher with the ops commands, against a real core gateway on
// loopback and against none. The init system is a recording fake that reports no user bus.
import assert from "node:assert/strict";
import {
  fakeLinuxHost,
  freePort,
  OPS_TOKEN,
  recordingRunner,
  runOps,
  startLoopbackGateway,
  withTempDir,
  writeConfig,
} from "./_ops_fakes.ts";

const noBus = () => ({ code: 1, stderr: "Failed to connect to bus: No medium found" });

async function scenario(
  config: (port: number) => unknown,
  body: (
    ctx: {
      port: number;
      home: string;
      run: (argv: string[], env?: Record<string, string>) => ReturnType<typeof runOps>;
    },
  ) => Promise<void>,
  options: { gateway?: boolean } = {},
) {
  await withTempDir(async (home) => {
    const started = options.gateway === false ? undefined : await startLoopbackGateway();
    const port = started?.port ?? freePort();
    await writeConfig(home, config(port));
    const host = fakeLinuxHost(home, recordingRunner(noBus).run);
    try {
      await body({ port, home, run: (argv, env = {}) => runOps(host, argv, { HOME: home, ...env }) });
    } finally {
      await started?.gateway.stop();
    }
  });
}

const withToken = (port: number) => ({ gateway: { mode: "local", port, auth: { token: OPS_TOKEN } } });

Deno.test("gateway status: a running gateway answers; JSON carries the reference field names", async () => {
  await scenario(withToken, async ({ port, home, run }) => {
    const json = await run(["gateway", "status", "--json"]);
    assert.equal(json.code, 0, json.err);
    const doc = JSON.parse(json.out);
    assert.equal(doc.rpc.ok, true);
    assert.equal(doc.rpc.url, `ws://127.0.0.1:${port}`);
    // A plain status probes as cli/probe with no device identity: no scopes, as the reference answers
    // (shared/spec/captures/cli-outputs.txt, tests/fixtures/reference-device-less-scopes.json).
    assert.equal(doc.rpc.capability, "connected_no_operator_scope");
    assert.deepEqual(doc.rpc.auth.scopes, []);
    assert.equal(doc.gateway.port, port);
    assert.equal(doc.gateway.portSource, "config");
    assert.equal(doc.gateway.bindMode, "loopback");
    assert.equal(doc.gateway.bindHost, "127.0.0.1");
    assert.equal(doc.gateway.probeUrl, `ws://127.0.0.1:${port}`);
    assert.equal(doc.gateway.version, "0.1.0");
    assert.equal(doc.config.cli.path, `${home}/.openclaw/openclaw.json`);
    assert.equal(doc.config.cli.exists, true);
    assert.equal(doc.config.cli.valid, true);
    assert.equal(doc.config.daemon.path, `${home}/.openclaw/openclaw.json`);
    assert.equal(doc.service.loaded, false);
    assert.equal(doc.service.label, "openclaw-gateway.service");
    assert.equal(doc.service.command, null);
    assert.equal(doc.port.status, "busy");

    const text = await run(["gateway", "status", "--require-rpc"]);
    assert.equal(text.code, 0, text.err);
    assert.match(
      text.out,
      new RegExp(`^Gateway: bind=loopback \\(127\\.0\\.0\\.1\\), port=${port} \\(config\\)$`, "m"),
    );
    assert.match(text.out, /^Connectivity probe: ok \(\d+ms\)$/m);
    assert.match(text.out, /^Capability: read-only$/m);
    assert.match(text.out, /^Read probe: ok$/m);
    assert.match(text.out, /^Runtime: unknown, systemd user services are not available here/m);
  });
});

Deno.test("gateway status: no gateway or a wrong token exits non-zero and says what to do", async () => {
  await scenario(withToken, async ({ run }) => {
    const down = await run(["gateway", "status"]);
    assert.equal(down.code, 1);
    assert.match(down.out, /^Connectivity probe: failed - gateway unreachable at ws:\/\/127\.0\.0\.1:\d+/m);
    assert.match(down.out, /^Next: start it with `openclaw gateway start`/m);
    const json = JSON.parse((await run(["gateway", "status", "--json"])).out);
    assert.equal(json.rpc.ok, false);
    assert.equal(json.rpc.error.kind, "unreachable");
    assert.equal(json.port.status, "free");
    const skipped = await run(["gateway", "status", "--no-probe"]);
    assert.equal(skipped.code, 0);
    assert.match(skipped.out, /^Connectivity probe: skipped/m);
    assert.equal((await run(["gateway", "status", "--no-probe", "--require-rpc"])).code, 2);
  }, { gateway: false });

  await scenario(withToken, async ({ run }) => {
    const bad = await run(["gateway", "status", "--token", "wrong-token", "--json"]);
    assert.equal(bad.code, 1);
    const doc = JSON.parse(bad.out);
    assert.equal(doc.rpc.error.kind, "auth");
    assert.match(doc.rpc.error.message, /gateway auth failed .*token mismatch/);
  });
});

Deno.test("health, gateway health and gateway call use the health/status methods", async () => {
  await scenario(withToken, async ({ port, run }) => {
    const health = await run(["health", "--json"]);
    assert.equal(health.code, 0, health.err);
    assert.equal(JSON.parse(health.out).ok, true);
    const text = await run(["health"]);
    assert.match(text.out, new RegExp(`^Gateway: ok \\(ws://127\\.0\\.0\\.1:${port}, \\d+ms\\)$`, "m"));
    assert.match(text.out, /^Channels: none configured$/m);

    const byPort = await run(["gateway", "health", "--port", String(port), "--json"], {
      HOME: "/nonexistent-home",
    });
    assert.equal(byPort.code, 1, "without the config there is no token");
    assert.match(byPort.out, /gateway auth failed/);
    const withEnvToken = await run(["gateway", "health", "--port", String(port)], {
      OPENCLAW_GATEWAY_TOKEN: OPS_TOKEN,
    });
    assert.equal(withEnvToken.code, 0, withEnvToken.err);

    const call = await run(["gateway", "call", "status", "--params", "{}"]);
    assert.equal(call.code, 0, call.err);
    assert.equal(JSON.parse(call.out).runtimeVersion, "0.1.0");
    const badParams = await run(["gateway", "call", "status", "--params", "{nope"]);
    assert.equal(badParams.code, 2);
    assert.match(badParams.err, /--params must be JSON/);
    const unknown = await run(["gateway", "call", "no.such.method"]);
    assert.equal(unknown.code, 1);
    assert.match(unknown.err, /no\.such\.method failed: unknown method/);
    const wrong = await run(["health", "--token", "nope"]);
    assert.equal(wrong.code, 1);
    assert.match(wrong.err, /gateway auth failed at ws:\/\/127\.0\.0\.1:\d+: unauthorized/);
    const noCreds = await run(["gateway", "call", "health", "--url", `ws://127.0.0.1:${port}`]);
    assert.equal(noCreds.code, 2);
    assert.match(noCreds.err, /gateway url override requires explicit credentials/);
    const explicit = await run([
      "gateway",
      "call",
      "health",
      "--url",
      `ws://127.0.0.1:${port}`,
      "--token",
      OPS_TOKEN,
    ]);
    assert.equal(explicit.code, 0, explicit.err);
  });
  await scenario(withToken, async ({ run }) => {
    const down = await run(["health"]);
    assert.equal(down.code, 1);
    assert.match(
      down.err,
      /gateway unreachable at ws:\/\/127\.0\.0\.1:\d+.*Is it running\? Try `openclaw gateway status`/,
    );
  }, { gateway: false });
});

Deno.test("gateway probe: reachable target, none, and two distinct gateways warn", async () => {
  await scenario(withToken, async ({ port, run }) => {
    const one = await run(["gateway", "probe"]);
    assert.equal(one.code, 0, one.err);
    assert.match(one.out, /^Reachable: yes$/m);
    assert.match(one.out, new RegExp(`^Local loopback ws://127\\.0\\.0\\.1:${port}$`, "m"));
    // What the reference's probe reports of the reference (shared/spec/captures/cli-outputs.txt): a
    // device-less cli/probe client is granted no scopes (tests/fixtures/reference-device-less-scopes.json).
    assert.match(one.out, /^Capability: connected-no-operator-scope$/m);
    assert.match(
      one.out,
      /^- Read-probe diagnostics are limited by gateway scopes \(missing operator\.read\)\./m,
    );
    assert.match(
      one.out,
      /^ {2}Connect: ok \(\d+ms\) · Capability: connect-only · Read probe: limited - missing scope: operator\.read$/m,
    );

    const second = await startLoopbackGateway();
    try {
      const two = await run([
        "gateway",
        "probe",
        "--json",
        "--url",
        `ws://127.0.0.1:${second.port}`,
        "--token",
        OPS_TOKEN,
      ]);
      assert.equal(two.code, 0, two.err);
      const doc = JSON.parse(two.out);
      assert.equal(doc.ok, true);
      assert.equal(doc.degraded, true, "the read probe is scope-limited");
      assert.equal(doc.capability, "connected_no_operator_scope");
      assert.equal(doc.primaryTargetId, "explicit");
      assert.deepEqual(doc.targets.map((t: { id: string }) => t.id), ["explicit", "local"]);
      assert.ok(
        doc.targets.every((t: { connect: { ok: boolean; scopeLimited: boolean } }) =>
          t.connect.ok && t.connect.scopeLimited
        ),
      );
      assert.deepEqual(doc.warnings.map((w: { code: string }) => w.code), [
        "multiple_gateways",
        "probe_scope_limited",
      ]);
      const text = await run([
        "gateway",
        "probe",
        "--url",
        `ws://127.0.0.1:${second.port}`,
        "--token",
        OPS_TOKEN,
      ]);
      assert.match(text.out, /^- multiple reachable gateway identities detected/m);
    } finally {
      await second.gateway.stop();
    }
  });
  await scenario(withToken, async ({ run }) => {
    const none = await run(["gateway", "probe", "--json"]);
    assert.equal(none.code, 1);
    const doc = JSON.parse(none.out);
    assert.equal(doc.ok, false);
    assert.equal(doc.targets[0].connect.ok, false);
  }, { gateway: false });
});

Deno.test("status and channels status: live when reachable, config-only fallback when not", async () => {
  const config = (port: number) => ({
    ...withToken(port),
    channels: { telegram: { enabled: true }, slack: { enabled: false } },
  });
  await scenario(config, async ({ run }) => {
    const status = await run(["status"]);
    assert.equal(status.code, 0, status.err);
    assert.match(
      status.out,
      /^Gateway +ws:\/\/127\.0\.0\.1:\d+ · reachable \(\d+ms\) · read-only · version 0\.1\.0 · up \d+s$/m,
    );
    assert.match(status.out, /^Auth +token$/m);
    const json = JSON.parse((await run(["status", "--json"])).out);
    assert.equal(json.gateway.reachable, true);
    assert.equal(json.health.ok, true);
    const channels = JSON.parse((await run(["channels", "status", "--probe", "--json"])).out);
    assert.equal(channels.gatewayReachable, true);
  });
  await scenario(config, async ({ run }) => {
    const text = await run(["channels", "status", "--probe"]);
    assert.equal(text.code, 0);
    assert.match(text.out, /^Gateway not reachable .*showing the config only\.$/m);
    assert.match(text.out, /^- telegram: configured$/m);
    assert.match(text.out, /^- slack: configured \(disabled\)$/m);
    const json = JSON.parse((await run(["channels", "status", "--json"])).out);
    assert.equal(json.source, "config");
    assert.deepEqual(json.channels, [{ id: "telegram", enabled: true }, { id: "slack", enabled: false }]);
    const status = await run(["status"]);
    assert.equal(status.code, 1);
    assert.match(status.out, /^Channels +telegram: configured \(gateway not asked\)/m);
  }, { gateway: false });
});
