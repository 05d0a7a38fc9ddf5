// Faults: model providers that hang, reset, vanish or send garbage; a state dir that is full or not
// writable; a config file corrupted, deleted or replaced while the gateway runs; SIGTERM while a turn
// streams and SIGKILL in the middle of a turn, then a restart. Each ends with a clear error or a clean
// recovery, no leaked run, no corrupted file, and the acknowledged message still there.
import assert from "node:assert/strict";
import { join } from "node:path";
import { agentsModule } from "../lib/agents/mod.ts";
import { openAiHttpModule } from "../lib/http/openai/openai-module.ts";
import { jsonlStores } from "../lib/state/jsonl-stores.ts";
import { GatewaySupervisor } from "../runner/gateway/supervisor.ts";
import { fileConfigSource } from "../runner/config/file-source.ts";
import { createGateway, type Gateway, type GatewayConfig } from "../mod.ts";
import { client, TOKEN } from "./_helpers.ts";
import { startFaultyUpstreams } from "./_evidence_faulty_upstream.ts";
import { startFakeUpstream } from "./_upstream.ts";
import { freePort, runnerEnv, spawnRunner } from "./_runner_process.ts";
import { handshake, until } from "./_evidence_clients.ts";

function provider(baseUrl: string) {
  return { baseUrl, apiKey: "k", api: "openai-completions", timeoutSeconds: 1, models: [{ id: "m" }] };
}

async function faultGateway(stateDir?: string, log?: (record: unknown) => void) {
  const up = startFaultyUpstreams();
  const names = ["hang", "garbage", "garbageStream", "reset", "down"] as const;
  const config: GatewayConfig = {
    gateway: {
      auth: { mode: "token", token: TOKEN },
      http: { endpoints: { chatCompletions: { enabled: true } } },
    },
    models: { providers: Object.fromEntries(names.map((n) => [n, provider(up[n])])) },
    agents: {
      defaults: { model: { primary: "local/scripted-1" } },
      entries: { main: {}, ...Object.fromEntries(names.map((n) => [n, { model: `${n}/m` }])) },
    },
  };
  const agents = agentsModule();
  const gateway = createGateway({
    config,
    stores: stateDir ? jsonlStores(stateDir) : {},
    modules: [agents, openAiHttpModule({ agents })],
    logSinks: log ? [{ write: log }] : [],
  });
  await gateway.start();
  const runs = { started: 0, ended: 0 };
  agents.runtime().onRunEvent((_run, event) => {
    if (event.type === "start") runs.started++;
    if (event.type === "end") runs.ended++;
  });
  return {
    gateway,
    up,
    runs,
    async [Symbol.asyncDispose]() {
      await gateway.stop();
      await up.close();
    },
  };
}

function chat(gateway: Gateway, agent: string, stream = false): Promise<Response> {
  return gateway.fetch(
    new Request("http://127.0.0.1/v1/chat/completions", {
      method: "POST",
      headers: { authorization: `Bearer ${TOKEN}`, "content-type": "application/json" },
      body: JSON.stringify({
        model: `openclaw/${agent}`,
        stream,
        messages: [{ role: "user", content: "hi" }],
      }),
    }),
  );
}

Deno.test("upstream faults become 502/504 with a message naming the provider; no run or request leaks", async () => {
  await using h = await faultGateway();
  const expected: [string, number, RegExp][] = [
    ["hang", 504, /model provider 'hang' did not finish within 1 s/],
    ["garbage", 502, /model provider 'garbage' sent a body that is not JSON/],
    ["reset", 502, /cannot reach model provider 'reset'/],
    ["down", 502, /cannot reach model provider 'down'/],
  ];
  const results = await Promise.all(expected.map(async ([agent]) => {
    const res = await chat(h.gateway, agent);
    return { status: res.status, body: await res.json() };
  }));
  for (const [i, [agent, status, message]] of expected.entries()) {
    assert.equal(results[i].status, status, `${agent}: ${JSON.stringify(results[i].body)}`);
    assert.match(results[i].body.error.message, message);
    assert.equal(results[i].body.error.type, "api_error");
  }
  // Streaming garbage: the stream ends (no hang) and carries an error instead of a fake answer.
  const streamed = await chat(h.gateway, "garbageStream", true);
  const text = await streamed.text();
  assert.ok(streamed.status === 502 || /error/i.test(text), `${streamed.status} ${text.slice(0, 300)}`);
  await until(() => h.runs.ended === h.runs.started, "every run to end");
  await until(() => h.up.hanging() === 0, "the hung upstream request to be abandoned");
  // And the gateway still answers on a healthy model.
  assert.equal((await chat(h.gateway, "main")).status, 200);
});

Deno.test("a WS turn against a hanging provider ends with an error the client can read", async () => {
  await using h = await faultGateway();
  const c = await client(h.gateway);
  const sent = await c.request("chat.send", {
    sessionKey: "agent:hang:main",
    message: "hi",
    idempotencyKey: "k1",
  });
  assert.equal(sent.ok, true, JSON.stringify(sent.error));
  const runId = (sent.payload as { runId: string }).runId;
  const waited = await c.request("agent.wait", { runId, timeoutMs: 5000 });
  assert.deepEqual(
    { status: (waited.payload as { status: string }).status },
    { status: "error" },
    JSON.stringify(waited.payload),
  );
  assert.match((waited.payload as { error: string }).error, /hang/);
  await until(() => h.runs.ended === h.runs.started, "every run to end");
  c.socket.close();
});

/** A 256 KiB tmpfs for the state dir, so "disk full" and "read-only" are real; needs root. */
async function tinyFs(): Promise<
  { dir: string; remount(mode: "ro" | "rw"): Promise<void>; dispose(): Promise<void> }
> {
  const dir = await Deno.makeTempDir();
  const mount = (...args: string[]) => new Deno.Command("mount", { args, stderr: "piped" }).output();
  const mounted = await mount("-t", "tmpfs", "-o", "size=256k", "tmpfs", dir);
  if (!mounted.success) throw new Error(new TextDecoder().decode(mounted.stderr));
  return {
    dir,
    async remount(mode) {
      const out = await mount("-o", `remount,${mode}`, dir);
      if (!out.success) throw new Error(new TextDecoder().decode(out.stderr));
    },
    async dispose() {
      await new Deno.Command("umount", { args: [dir] }).output();
      await Deno.remove(dir, { recursive: true });
    },
  };
}

const canMount = Deno.uid?.() === 0 && Deno.build.os === "linux";

Deno.test({
  name: "disk full and a read-only state dir fail the turn with an error; it recovers when space returns",
  ignore: !canMount,
  async fn() {
    const fs = await tinyFs();
    const logged: string[] = [];
    try {
      await using h = await faultGateway(fs.dir, (record) => logged.push(JSON.stringify(record)));
      const c = await client(h.gateway);
      // A turn reported "ok" must be on disk; otherwise it must report "error". Never ok-but-lost.
      const assertFailedOrKept = async (status: string, key: string) => {
        const history = await c.request("chat.history", { sessionKey: "main" });
        const kept = JSON.stringify(history.payload).includes(`turn ${key}`);
        assert.ok(status === "error" || kept, `turn ${key} reported ${status} but is not in the history`);
        if (status === "error") {
          assert.ok(
            logged.some((l) => /ENOSPC|no space|EROFS|read-only/i.test(l)),
            `turn ${key} failed and the log must name the cause`,
          );
        }
      };
      const turn = async (key: string) => {
        const sent = await c.request("chat.send", {
          sessionKey: "main",
          message: `turn ${key}`,
          idempotencyKey: key,
        });
        if (!sent.ok) {
          // Refusing the message outright is as good as failing the turn, if it says why and may be retried.
          const error = sent.error as { code: string; message: string; retryable?: boolean };
          assert.equal(error.code, "UNAVAILABLE", JSON.stringify(error));
          assert.equal(error.retryable, true);
          assert.match(error.message, /ENOSPC|EROFS/);
          return "error";
        }
        const waited = await c.request("agent.wait", {
          runId: (sent.payload as { runId: string }).runId,
          timeoutMs: 4000,
        });
        return (waited.payload as { status: string }).status;
      };
      assert.equal(await turn("before"), "ok");
      // Fill the disk.
      const filler = await Deno.open(join(fs.dir, "filler"), { write: true, create: true });
      await filler.write(new Uint8Array(1024 * 1024)).catch(() => {});
      for (;;) {
        const n = await filler.write(new Uint8Array(4096)).catch(() => 0);
        if (!n) break;
      }
      filler.close();
      await assertFailedOrKept(await turn("full"), "full");
      assert.equal((await c.request("health")).ok, true);
      await Deno.remove(join(fs.dir, "filler"));
      assert.equal(await turn("after-full"), "ok", "turns work again once space is back");

      await fs.remount("ro");
      await assertFailedOrKept(await turn("read-only"), "read-only");
      await fs.remount("rw");
      assert.equal(await turn("after-ro"), "ok");

      for await (const file of walkJsonl(fs.dir)) {
        for (const line of (await Deno.readTextFile(file)).split("\n").filter(Boolean)) JSON.parse(line);
      }
      const history = await c.request("chat.history", { sessionKey: "main" });
      assert.match(JSON.stringify(history.payload), /turn after-ro/);
      await until(() => h.runs.ended === h.runs.started, "every run to end");
      c.socket.close();
    } finally {
      await fs.dispose();
    }
  },
});

Deno.test("config corrupted, deleted or replaced by a directory while running: the last good config keeps serving", async () => {
  const dir = await Deno.makeTempDir();
  const path = join(dir, "openclaw.json");
  const good = {
    gateway: { mode: "local", auth: { mode: "token", token: TOKEN } },
    logging: { level: "info" },
  };
  await Deno.writeTextFile(path, JSON.stringify(good));
  let gateway: Gateway | undefined;
  const supervisor = new GatewaySupervisor({
    source: fileConfigSource(path, { env: {} }),
    createGateway: (config) => (gateway = createGateway({ config })),
    resolveSecrets: (config) => Promise.resolve({ config, values: new Map(), failures: [] }),
    logger: createGateway().logger,
  });
  await supervisor.start();
  const corruptions: [string, () => Promise<void>][] = [
    ["truncated JSON", () => Deno.writeTextFile(path, '{ "gateway": { "mode": "lo')],
    ["binary junk", () => Deno.writeFile(path, crypto.getRandomValues(new Uint8Array(512)))],
    ["schema violation", () => Deno.writeTextFile(path, JSON.stringify({ gateway: { port: "eighty" } }))],
    ["deleted", () => Deno.remove(path)],
    ["replaced by a directory", () => Deno.remove(path).then(() => Deno.mkdir(path))],
  ];
  for (const [what, corrupt] of corruptions) {
    await corrupt();
    const outcome = await supervisor.reload();
    const c = await client(gateway!).catch((e) => e as Error);
    assert.ok(!(c instanceof Error), `${what}: ${String(c)} (reload: ${JSON.stringify(outcome)})`);
    assert.equal((await c.request("health")).ok, true, what);
    c.socket.close();
    await Deno.remove(path, { recursive: true }).catch(() => {});
    await Deno.writeTextFile(path, JSON.stringify(good));
  }
  await supervisor.stop("test over");
  await Deno.remove(dir, { recursive: true });
});

async function devRunner(home: string, port: number, upstreamUrl: string) {
  const state = join(home, ".openclaw");
  await Deno.mkdir(state, { recursive: true });
  await Deno.writeTextFile(
    join(state, "openclaw.json"),
    JSON.stringify({
      gateway: {
        mode: "local",
        port,
        auth: { mode: "token", token: TOKEN },
        http: { endpoints: { chatCompletions: { enabled: true } } },
      },
      models: {
        providers: {
          up: { baseUrl: upstreamUrl, apiKey: "k", api: "openai-completions", models: [{ id: "slow" }] },
        },
      },
      agents: { defaults: { model: { primary: "up/slow" } } },
    }),
  );
  const proc = spawnRunner(["gateway", "run"], runnerEnv(home));
  await proc.waitFor(new RegExp(`gateway listening .*port=${port}`));
  return { proc, state };
}

Deno.test("SIGTERM while a turn streams: the stream ends, the process exits 0 promptly", async () => {
  const upstream = startFakeUpstream();
  const home = await Deno.makeTempDir();
  const port = freePort();
  const { proc } = await devRunner(home, port, upstream.url);
  try {
    const res = await fetch(`http://127.0.0.1:${port}/v1/chat/completions`, {
      method: "POST",
      headers: { authorization: `Bearer ${TOKEN}`, "content-type": "application/json" },
      body: JSON.stringify({ model: "openclaw", stream: true, messages: [{ role: "user", content: "hi" }] }),
    });
    assert.equal(res.status, 200);
    const reader = res.body!.getReader();
    assert.match(new TextDecoder().decode((await reader.read()).value), /data: /);
    const t0 = Date.now();
    const exited = proc.stop("SIGTERM");
    // Drain the rest: it must end (cleanly or cut), not hang.
    for (;;) {
      const chunk = await reader.read().catch(() => ({ done: true }));
      if (chunk.done) break;
    }
    assert.equal(await exited, 0, proc.stderr.join("\n") + proc.lines.slice(-5).join("\n"));
    assert.ok(Date.now() - t0 < 15_000, `exit took ${Date.now() - t0} ms`);
    await upstream.aborted; // the gateway let go of the upstream stream too
  } finally {
    await proc.stop("SIGKILL");
    await upstream.close();
    await Deno.remove(home, { recursive: true });
  }
});

Deno.test("SIGKILL mid-turn, then restart: files parse, the acknowledged message is in the history", async () => {
  const upstream = startFakeUpstream();
  const home = await Deno.makeTempDir();
  const port = freePort();
  try {
    const first = await devRunner(home, port, upstream.url);
    const ws = await connectWs(port);
    const sent = await ws.request("chat.send", {
      sessionKey: "main",
      message: "remember this acknowledged message",
      idempotencyKey: "kill-1",
    });
    assert.equal(sent.ok, true, JSON.stringify(sent));
    await until(() => upstream.requests.length > 0, "the turn to reach the model");
    await first.proc.stop("SIGKILL");
    ws.close();

    for await (const file of walkJsonl(first.state)) {
      const lines = (await Deno.readTextFile(file)).split("\n").filter(Boolean);
      // A torn tail line is tolerated by the loader; every complete line must parse.
      for (const line of lines.slice(0, -1)) JSON.parse(line);
    }
    const second = await devRunner(home, port, upstream.url);
    const again = await connectWs(port);
    const history = await again.request("chat.history", { sessionKey: "main" });
    assert.equal(history.ok, true, JSON.stringify(history));
    assert.match(JSON.stringify(history.payload), /remember this acknowledged message/);
    again.close();
    await second.proc.stop("SIGTERM");
  } finally {
    await upstream.close();
    await Deno.remove(home, { recursive: true });
  }
});

async function* walkJsonl(dir: string): AsyncGenerator<string> {
  for await (const entry of Deno.readDir(dir)) {
    const path = join(dir, entry.name);
    if (entry.isDirectory) yield* walkJsonl(path);
    else if (entry.name.endsWith(".jsonl")) yield path;
  }
}

async function connectWs(port: number) {
  const { session, response } = await handshake(`ws://127.0.0.1:${port}`);
  assert.equal(response.ok, true, JSON.stringify(response));
  return { request: session.request, close: () => session.ws.close() };
}
