// The systemd, launchd and Task Scheduler installers: generated definitions checked field by field,
// and the exact OS commands they run, recorded through the command-runner seam.
import assert from "node:assert/strict";
import { createLaunchdInstaller, parseLaunchdPlist } from "../lib/service/launchd.ts";
import { nodeServiceFiles } from "../lib/service/node-host.ts";
import { createScheduledTaskInstaller, parseGatewayCmd } from "../lib/service/schtasks.ts";
import { serviceName } from "../lib/service/identity.ts";
import { buildGatewayServiceSpec, recordedPort } from "../lib/service/spec.ts";
import {
  createSystemdInstaller,
  parseSystemdUnit,
  type SystemdInstallerOptions,
} from "../lib/service/systemd.ts";
import { memoryServiceFiles, recordingRunner, withTempDir } from "./_ops_fakes.ts";

const files = nodeServiceFiles;

/** A user-level systemd installer of the default profile whose home and state dir are `home`. */
const systemdIn = (
  home: string,
  options: Pick<SystemdInstallerOptions, "run"> & Partial<SystemdInstallerOptions>,
) =>
  createSystemdInstaller({ files, profile: "default", env: {}, homeDir: home, stateDir: home, ...options });

function spec(stateDir: string, port = 18789, extra: { token?: string; profile?: string } = {}) {
  return buildGatewayServiceSpec({
    launcher: [Deno.execPath(), "run", "-A", "--config", "/opt/oc gw/deno.json", "/opt/oc gw/runner/main.ts"],
    profile: extra.profile ?? "default",
    port,
    stateDir,
    configPath: `${stateDir}/openclaw.json`,
    token: extra.token,
  });
}

function unitLines(text: string): Map<string, string[]> {
  const keys = new Map<string, string[]>();
  let section = "";
  for (const line of text.split("\n")) {
    if (/^\[.+\]$/.test(line)) section = line;
    const eq = line.indexOf("=");
    if (eq > 0 && !line.startsWith("#")) {
      const key = `${section}${line.slice(0, eq)}`;
      keys.set(key, [...keys.get(key) ?? [], line.slice(eq + 1)]);
    }
  }
  return keys;
}

Deno.test("service names follow the profile and honour overrides only for the default profile", () => {
  assert.equal(serviceName("systemd", "default", {}), "openclaw-gateway.service");
  assert.equal(serviceName("systemd", "work", {}), "openclaw-gateway-work.service");
  assert.equal(serviceName("launchd", "default", {}), "ai.openclaw.gateway");
  assert.equal(serviceName("launchd", "work", {}), "ai.openclaw.work");
  assert.equal(serviceName("schtasks", "default", {}), "OpenClaw Gateway");
  assert.equal(serviceName("schtasks", "work", {}), "OpenClaw Gateway (work)");
  assert.equal(serviceName("systemd", "default", { OPENCLAW_SYSTEMD_UNIT: "my-gw" }), "my-gw.service");
  assert.throws(() => serviceName("systemd", "work", { OPENCLAW_SYSTEMD_UNIT: "x" }), /unset it first/);
  assert.throws(() => serviceName("launchd", "Work", {}), /must be lowercase/);
  assert.throws(() => serviceName("launchd", "gateway", {}), /collide/);
});

Deno.test("systemd: the unit has the documented keys, the port, the profile, and no secrets", async () => {
  await withTempDir(async (home) => {
    const stateDir = `${home}/.openclaw-work`;
    const { run, calls } = recordingRunner();
    const installer = createSystemdInstaller({
      run,
      files,
      profile: "work",
      env: {},
      homeDir: home,
      stateDir,
      systemUnitDir: `${home}/etc-systemd`,
    });
    assert.equal(installer.definitionPath, `${home}/.config/systemd/user/openclaw-gateway-work.service`);
    assert.equal(
      await installer.install(spec(stateDir, 19123, { token: "s3cret-token", profile: "work" })),
      "installed",
    );
    assert.deepEqual(calls, [
      "systemctl --user daemon-reload",
      "systemctl --user enable --now openclaw-gateway-work.service",
    ]);
    const text = (await files.readText(installer.definitionPath))!;
    const keys = unitLines(text);
    const one = (key: string) => keys.get(key)?.join("|");
    assert.equal(one("[Unit]Description"), "OpenClaw Gateway (work)");
    assert.equal(one("[Unit]After"), "network-online.target");
    assert.equal(one("[Unit]Wants"), "network-online.target");
    assert.equal(one("[Unit]StartLimitBurst"), "5");
    assert.equal(one("[Unit]StartLimitIntervalSec"), "60");
    assert.equal(one("[Service]Restart"), "always");
    assert.equal(one("[Service]RestartSec"), "5");
    assert.equal(one("[Service]RestartPreventExitStatus"), "78");
    assert.equal(one("[Service]TimeoutStartSec"), "30");
    assert.equal(one("[Service]TimeoutStopSec"), "30");
    assert.equal(one("[Service]SuccessExitStatus"), "0 143");
    assert.equal(one("[Service]KillMode"), "control-group");
    assert.equal(one("[Service]OOMPolicy"), "continue");
    assert.equal(one("[Install]WantedBy"), "default.target");
    assert.equal(one("[Service]EnvironmentFile"), `-${stateDir}/service-env/openclaw-gateway-work.env`);
    assert.ok(!text.includes("s3cret-token"), "the token must not be inline in the unit");

    const parsed = parseSystemdUnit(text);
    assert.deepEqual(parsed.programArguments.slice(1), [
      "run",
      "-A",
      "--config",
      "/opt/oc gw/deno.json",
      "/opt/oc gw/runner/main.ts",
      "--profile",
      "work",
      "gateway",
      "run",
      "--port",
      "19123",
    ]);
    assert.equal(recordedPort(parsed.programArguments), 19123);
    assert.equal(parsed.environment.OPENCLAW_STATE_DIR, stateDir);
    assert.equal(parsed.environment.OPENCLAW_PROFILE, "work");

    const envFile = `${stateDir}/service-env/openclaw-gateway-work.env`;
    assert.match((await files.readText(envFile))!, /^OPENCLAW_GATEWAY_TOKEN=s3cret-token$/m);
    assert.equal(await files.mode(envFile), 0o600);
    assert.equal(await files.mode(`${stateDir}/service-env`), 0o700);
    const installed = await installer.readInstalled();
    assert.equal(
      installed?.environment.OPENCLAW_GATEWAY_TOKEN,
      "s3cret-token",
      "drift checks see the env file too",
    );
  });
});

const hasSystemdAnalyze = await new Deno.Command("systemd-analyze", {
  args: ["--version"],
  stdout: "null",
  stderr: "null",
})
  .output().then((out) => out.success, () => false);

Deno.test({
  name: "systemd: the generated unit passes systemd-analyze verify",
  ignore: !hasSystemdAnalyze,
}, async () => {
  await withTempDir(async (home) => {
    const installer = systemdIn(home, { run: recordingRunner().run });
    await installer.install(spec(home));
    const out = await new Deno.Command("systemd-analyze", { args: ["verify", installer.definitionPath] })
      .output();
    const stderr = new TextDecoder().decode(out.stderr);
    assert.equal(out.code, 0, stderr);
    assert.doesNotMatch(stderr, /Unknown|ignoring|Invalid|Failed/i, stderr);
  });
});

Deno.test("systemd: reinstall is idempotent, a changed definition needs --force and restarts", async () => {
  await withTempDir(async (home) => {
    const { run, calls } = recordingRunner();
    const installer = systemdIn(home, { run });
    await installer.install(spec(home, 18789));
    calls.length = 0;
    assert.equal(await installer.install(spec(home, 18789)), "unchanged");
    assert.deepEqual(calls, ["systemctl --user enable --now openclaw-gateway.service"]);
    calls.length = 0;
    await assert.rejects(
      installer.install(spec(home, 18800)),
      /different definition; run `openclaw gateway install --force`/,
    );
    assert.deepEqual(calls, []);
    assert.equal(await installer.install(spec(home, 18800), { force: true }), "updated");
    assert.deepEqual(calls, [
      "systemctl --user daemon-reload",
      "systemctl --user enable openclaw-gateway.service",
      "systemctl --user restart openclaw-gateway.service",
    ]);
    assert.equal(recordedPort((await installer.readInstalled())!.programArguments), 18800);
  });
});

Deno.test("systemd: start/stop/restart/status/uninstall run the right systemctl commands", async () => {
  await withTempDir(async (home) => {
    const { run, calls } = recordingRunner((_cmd, args) =>
      args.includes("show")
        ? {
          stdout:
            "LoadState=loaded\nActiveState=active\nSubState=running\nMainPID=4242\nUnitFileState=enabled\n",
        }
        : undefined
    );
    const installer = systemdIn(home, { run });
    assert.equal(await installer.stop(), false, "stopping a missing service is a no-op");
    await assert.rejects(installer.start(), /not installed .* Run `openclaw gateway install` first/);
    assert.deepEqual(calls, []);
    await installer.install(spec(home));
    calls.length = 0;
    await installer.start();
    await installer.restart();
    assert.equal(await installer.stop(), true);
    await installer.stop({ disable: true });
    const state = await installer.status();
    assert.deepEqual(state, {
      installed: true,
      loaded: true,
      runtime: "running",
      pid: 4242,
      detail: "active (running), enabled",
    });
    assert.equal(await installer.uninstall(), true);
    assert.equal(await installer.uninstall(), false);
    assert.deepEqual(calls, [
      "systemctl --user start openclaw-gateway.service",
      "systemctl --user restart openclaw-gateway.service",
      "systemctl --user stop openclaw-gateway.service",
      "systemctl --user disable --now openclaw-gateway.service",
      "systemctl --user show openclaw-gateway.service --no-pager --property=LoadState,ActiveState,SubState,MainPID,UnitFileState",
      "systemctl --user disable --now openclaw-gateway.service",
      "systemctl --user daemon-reload",
    ]);
    assert.equal(await files.readText(installer.definitionPath), undefined);
  });
});

Deno.test("systemd: a missing systemctl or user bus gives an actionable error; a system unit blocks a user install", async () => {
  await withTempDir(async (home) => {
    const missing = systemdIn(home, { run: recordingRunner(() => ({ code: 127, notFound: true })).run });
    await assert.rejects(
      missing.install(spec(home)),
      /systemctl not found: this host has no supported service manager/,
    );

    const noBus = systemdIn(home, {
      run: recordingRunner(() => ({ code: 1, stderr: "Failed to connect to bus: No medium found" })).run,
      profile: "other",
    });
    await assert.rejects(
      noBus.install(spec(home)),
      /systemd user services are not available here.*XDG_RUNTIME_DIR.*loginctl enable-linger/,
    );

    await files.writeText(`${home}/etc/openclaw-gateway-sys.service`, "[Service]\nExecStart=/bin/true\n");
    const { run, calls } = recordingRunner();
    const blocked = systemdIn(home, { run, profile: "sys", systemUnitDir: `${home}/etc` });
    await assert.rejects(blocked.install(spec(home)), /system-level unit .* refusing to add a user unit/);
    assert.deepEqual(calls, []);
  });
});

Deno.test("launchd: the plist is well-formed, keeps secrets out, and bootstraps in gui/<uid>", async () => {
  await withTempDir(async (home) => {
    const { run, calls } = recordingRunner((
      _cmd,
      args,
    ) => (args[0] === "print" ? { code: 113, stderr: "Could not find service" } : undefined));
    const installer = createLaunchdInstaller({
      run,
      files,
      profile: "default",
      env: {},
      homeDir: home,
      stateDir: `${home}/.openclaw`,
      uid: 501,
      systemDaemonDir: `${home}/LaunchDaemons`,
    });
    assert.equal(installer.definitionPath, `${home}/Library/LaunchAgents/ai.openclaw.gateway.plist`);
    assert.equal(
      await installer.install(spec(`${home}/.openclaw`, 18789, { token: "tok&<x>" })),
      "installed",
    );
    assert.deepEqual(calls, [
      "launchctl print system/ai.openclaw.gateway",
      "launchctl enable gui/501/ai.openclaw.gateway",
      "launchctl bootstrap gui/501 " + installer.definitionPath,
    ]);
    const text = (await files.readText(installer.definitionPath))!;
    assert.ok(
      text.startsWith(
        '<?xml version="1.0" encoding="UTF-8"?>\n<!DOCTYPE plist PUBLIC "-//Apple//DTD PLIST 1.0//EN"',
      ),
    );
    assert.ok(!text.includes("tok&"), "the token must not be in the plist");

    // An independent parser (Python's plistlib) must read it as the same document.
    const py = await new Deno.Command("python3", {
      args: [
        "-c",
        "import json,plistlib,sys; print(json.dumps(plistlib.load(open(sys.argv[1],'rb'))))",
        installer.definitionPath,
      ],
    }).output().catch(() => undefined);
    if (py?.success) {
      const doc = JSON.parse(new TextDecoder().decode(py.stdout));
      assert.equal(doc.Label, "ai.openclaw.gateway");
      assert.equal(doc.KeepAlive, true);
      assert.equal(doc.RunAtLoad, true);
      assert.equal(doc.StandardOutPath, `${home}/Library/Logs/openclaw/gateway.log`);
      assert.equal(
        doc.EnvironmentVariables.PATH,
        "/opt/homebrew/bin:/opt/homebrew/sbin:/usr/local/bin:/usr/bin:/bin:/usr/sbin:/sbin",
      );
      assert.equal(doc.EnvironmentVariables.OPENCLAW_GATEWAY_PORT, "18789");
      assert.deepEqual(doc.ProgramArguments.slice(0, 2), ["/bin/sh", "-c"]);
      assert.equal(doc.ProgramArguments[3], `${home}/.openclaw/service-env/ai.openclaw.gateway.env`);
      assert.deepEqual(doc.ProgramArguments.slice(-4), ["gateway", "run", "--port", "18789"]);
    }
    const parsed = parseLaunchdPlist(text);
    assert.equal(recordedPort(parsed.programArguments), 18789);
    assert.equal(parsed.programArguments[0], Deno.execPath());
    assert.equal((await installer.readInstalled())?.environment.OPENCLAW_GATEWAY_TOKEN, "tok&<x>");
  });
});

Deno.test("launchd: stop boots out (and --disable persists), restart kickstarts, a system daemon blocks", async () => {
  await withTempDir(async (home) => {
    const { run, calls } = recordingRunner((_cmd, args) =>
      args[0] === "print" && args[1].startsWith("system/")
        ? { code: 113 }
        : args[0] === "print"
        ? { stdout: "gui/501/ai.openclaw.work = {\n\tstate = running\n\tpid = 777\n\tlast exit code = 0\n}" }
        : undefined
    );
    const installer = createLaunchdInstaller({
      run,
      files,
      profile: "work",
      env: {},
      homeDir: home,
      stateDir: home,
      uid: 501,
      systemDaemonDir: `${home}/LaunchDaemons`,
    });
    await files.writeText(installer.definitionPath, "<plist/>");
    await installer.stop({ disable: true });
    await installer.restart();
    assert.deepEqual(await installer.status(), {
      installed: true,
      loaded: true,
      runtime: "running",
      pid: 777,
      detail: "running, last exit code 0",
    });
    assert.deepEqual(calls, [
      "launchctl print gui/501/ai.openclaw.work",
      "launchctl bootout gui/501/ai.openclaw.work",
      "launchctl disable gui/501/ai.openclaw.work",
      "launchctl print system/ai.openclaw.work",
      "launchctl print gui/501/ai.openclaw.work",
      "launchctl kickstart -k gui/501/ai.openclaw.work",
      "launchctl print gui/501/ai.openclaw.work",
    ]);
    await files.writeText(`${home}/LaunchDaemons/ai.openclaw.work.plist`, "<plist/>");
    await assert.rejects(installer.install(spec(home), { force: true }), /system LaunchDaemon .* refusing/);
  });
});

Deno.test("schtasks: gateway.cmd carries env and argv; the task runs it; a denied task falls back to Startup", async () => {
  await withTempDir(async (home) => {
    const stateDir = `${home}\\.openclaw`;
    let denied = false;
    const { run, calls } = recordingRunner((_cmd, args) => {
      if (args[0] === "/Create" && denied) return { code: 1, stderr: "ERROR: Access is denied." };
      if (args[0] === "/Query") {
        return denied ? { code: 1 } : { stdout: "TaskName: \\OpenClaw Gateway\nStatus: Running\n" };
      }
      return undefined;
    });
    const files = memoryServiceFiles();
    const installer = createScheduledTaskInstaller({
      run,
      files,
      profile: "default",
      env: { APPDATA: `${home}\\AppData` },
      homeDir: home,
      stateDir,
    });
    assert.equal(installer.name, "OpenClaw Gateway");
    assert.equal(await installer.install(spec(stateDir, 18789, { token: "100%secret" })), "installed");
    assert.deepEqual(calls, [
      `schtasks /Create /F /TN OpenClaw Gateway /SC ONLOGON /RL LIMITED /TR "${stateDir}\\gateway.cmd"`,
      "schtasks /Query /TN OpenClaw Gateway",
      "schtasks /Run /TN OpenClaw Gateway",
    ]);
    const script = (await files.readText(installer.definitionPath))!;
    assert.ok(script.startsWith("@echo off\r\n"));
    assert.ok(!script.includes("100%secret"), "the token must not be in gateway.cmd");
    assert.match(script, /^set "OPENCLAW_GATEWAY_PORT=18789"\r$/m);
    assert.match(script, />> ".*\\logs\\gateway\.log" 2>&1\r$/m);
    const parsed = parseGatewayCmd(script);
    assert.equal(parsed.programArguments[0], Deno.execPath());
    assert.equal(parsed.programArguments[4], "/opt/oc gw/deno.json");
    assert.equal(recordedPort(parsed.programArguments), 18789);
    assert.deepEqual(await installer.status(), {
      installed: true,
      loaded: true,
      runtime: "running",
      detail: "Running",
    });

    calls.length = 0;
    denied = true;
    assert.equal(await installer.install(spec(stateDir, 18790), { force: true }), "updated");
    const startup =
      `${home}\\AppData\\Microsoft\\Windows\\Start Menu\\Programs\\Startup\\OpenClaw Gateway.cmd`;
    assert.match((await files.readText(startup))!, /start "" \/min cmd \/c ".*gateway\.cmd"/);
    assert.equal(calls.at(-1), `cmd /c start "" /min cmd /c ${stateDir}\\gateway.cmd`);
    assert.equal(await installer.uninstall(), true);
    assert.equal(await files.readText(startup), undefined);
  });
});
