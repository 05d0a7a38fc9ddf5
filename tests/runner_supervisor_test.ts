// The supervisor: hot apply, in-process restart, bad edits keep the last good config, file watching,
// secrets reload; plus the state-dir lock.
import assert from "node:assert/strict";
import { join } from "node:path";
import type { GatewayConfig } from "../lib/config/schema.ts";
import { envSecretResolver, resolveSecrets } from "../lib/config/secrets.ts";
import { createLogger, type LogRecord } from "../lib/log/logger.ts";
import { fileConfigSource } from "../runner/config/file-source.ts";
import { GatewaySupervisor, type ManagedGateway } from "../runner/gateway/supervisor.ts";
import { acquireGatewayLock, lockPath } from "../runner/gateway/lock.ts";
import { tempDir } from "./_helpers.ts";

class FakeGateway implements ManagedGateway {
  running = false;
  stops: { reason?: string; restartExpectedMs?: number }[] = [];
  updates: GatewayConfig[] = [];
  constructor(public config: GatewayConfig) {}
  start() {
    this.running = true;
    return Promise.resolve({ hostname: "127.0.0.1", port: this.config.gateway?.port ?? 0 });
  }
  stop(options = {}) {
    this.running = false;
    this.stops.push(options);
    return Promise.resolve();
  }
  updateConfig(next: unknown) {
    this.config = next as GatewayConfig;
    this.updates.push(this.config);
    return { ok: true as const };
  }
}

async function setup(initial: string, env: Record<string, string> = {}) {
  const root = await tempDir();
  const path = join(root, "openclaw.json");
  await Deno.writeTextFile(path, initial);
  const records: LogRecord[] = [];
  const gateways: FakeGateway[] = [];
  const source = fileConfigSource(path, { env, debounceMs: 50 });
  const supervisor = new GatewaySupervisor({
    source,
    logger: createLogger({ sinks: [{ write: (r) => records.push(r) }] }),
    createGateway: (config) => {
      const g = new FakeGateway(config);
      gateways.push(g);
      return g;
    },
    resolveSecrets: (config, previous) =>
      resolveSecrets(config, { resolvers: { env: envSecretResolver(env) }, previous: previous?.values }),
  });
  return { root, path, source, supervisor, records, gateways, env };
}

Deno.test("a hot key applies in place; a gateway key restarts in-process with a restart hint", async () => {
  const t = await setup('{ gateway: { mode: "local", port: 1 }, logging: { level: "info" } }');
  await t.supervisor.start();
  await Deno.writeTextFile(t.path, '{ gateway: { mode: "local", port: 1 }, logging: { level: "debug" } }');
  const hot = await t.supervisor.reload();
  assert.equal(hot.action, "hot");
  assert.equal(t.gateways.length, 1);
  assert.equal(t.gateways[0].updates[0].logging?.level, "debug");

  await Deno.writeTextFile(t.path, '{ gateway: { mode: "local", port: 2 }, logging: { level: "debug" } }');
  const restart = await t.supervisor.reload();
  assert.equal(restart.action, "restart");
  assert.equal(t.gateways.length, 2);
  assert.equal(t.gateways[0].running, false);
  assert.match(t.gateways[0].stops[0].reason!, /config change: gateway\.port/);
  assert.equal(typeof t.gateways[0].stops[0].restartExpectedMs, "number");
  assert.equal(t.gateways[1].config.gateway?.port, 2);
  assert.equal(t.gateways[1].running, true);
});

Deno.test("a broken edit is skipped with the reason and the last good config keeps serving", async () => {
  const t = await setup('{ gateway: { mode: "local", port: 1 } }');
  await t.supervisor.start();
  await Deno.writeTextFile(t.path, '{ gateway: { mode: "local", port: 1, } oops');
  const broken = await t.supervisor.reload();
  assert.equal(broken.action, "skipped");
  await Deno.writeTextFile(t.path, '{ gateway: { mode: "local", port: "x" } }');
  assert.equal((await t.supervisor.reload()).action, "skipped");
  const skips = t.records.filter((r) => r.msg.startsWith("config reload skipped (invalid config): "));
  assert.equal(skips.length, 2);
  assert.match(skips[0].msg, /JSON5 syntax error at line 1/);
  assert.match(skips[1].msg, /gateway\.port/);
  assert.equal(t.gateways.length, 1);
  assert.equal(t.gateways[0].running, true);
  assert.equal(t.supervisor.current?.runtime.gateway?.port, 1);
  // A later valid edit applies normally.
  await Deno.writeTextFile(t.path, '{ gateway: { mode: "local", port: 1 }, agents: { defaults: {} } }');
  assert.equal((await t.supervisor.reload()).action, "hot");
});

Deno.test("the file watcher triggers a debounced reload", async () => {
  const t = await setup('{ gateway: { mode: "local" }, logging: { level: "info" } }');
  await t.supervisor.start();
  let reloads = 0;
  const done = new Promise<void>((resolve) => {
    const stop = t.source.watch!(async () => {
      reloads++;
      await t.supervisor.reload();
      stop();
      resolve();
    });
  });
  // Editor-style save: write a temp file and rename it over the config, several times quickly.
  for (const level of ["warn", "error", "debug"]) {
    await Deno.writeTextFile(
      `${t.path}.tmp`,
      `{ gateway: { mode: "local" }, logging: { level: "${level}" } }`,
    );
    await Deno.rename(`${t.path}.tmp`, t.path);
  }
  await done;
  assert.equal(reloads, 1);
  assert.equal(t.gateways[0].config.logging?.level, "debug");
});

Deno.test("unresolvable gateway auth secrets stop a start; secrets reload re-resolves without a restart", async () => {
  const t = await setup('{ gateway: { mode: "local", auth: { token: { source: "env", id: "GW_TOKEN" } } } }');
  await assert.rejects(t.supervisor.start(), /cannot resolve gateway\.auth\.token/);
  t.env.GW_TOKEN = "one";
  await t.supervisor.start();
  assert.equal(t.gateways.at(-1)!.config.gateway?.auth?.token, "one");
  t.env.GW_TOKEN = "two";
  const outcome = await t.supervisor.reloadSecrets();
  assert.deepEqual([outcome.ok, outcome.warningCount], [true, 0]);
  assert.equal(t.gateways.at(-1)!.config.gateway?.auth?.token, "two");
  assert.equal(t.gateways.at(-1)!.stops.length, 0);
});

Deno.test("an unset ${VAR} in the gateway token refuses to start instead of using the placeholder", async () => {
  const t = await setup('{ gateway: { mode: "local", auth: { token: "${NOT_SET_TOKEN}" } } }');
  await assert.rejects(t.supervisor.start(), /gateway\.auth\.token refers to an unset variable/);
});

Deno.test("lock: exclusive per state dir, stale owners are taken over", async () => {
  const stateDir = await tempDir();
  const owner = { pid: Deno.pid, port: 1, startedAt: "now", configPath: "c" };
  const lock = await acquireGatewayLock({ stateDir, owner });
  const live = { ...owner, pid: 999_999_01 };
  await assert.rejects(
    acquireGatewayLock({ stateDir, owner: live, timeoutMs: 300, isAlive: () => true }),
    new RegExp(`gateway already running \\(pid ${Deno.pid}, port 1\\); lock timeout after 300ms`),
  );
  await lock.release();
  await Deno.writeTextFile(lockPath(stateDir), JSON.stringify({ ...owner, pid: 999_999_02 }));
  const taken = await acquireGatewayLock({ stateDir, owner: live, isAlive: () => false });
  assert.equal(JSON.parse(await Deno.readTextFile(taken.path)).pid, 999_999_01);
  await taken.updatePort(4321);
  assert.equal(JSON.parse(await Deno.readTextFile(taken.path)).port, 4321);
  await taken.release();
  await assert.rejects(Deno.stat(taken.path), Deno.errors.NotFound);
});
