// What `deno run -A runner/main.ts gateway run` (README's first command, `deno task dev`) evaluates from
// its TypeScript sources before its first `hello-ok`: every module counts there (from sources, nothing is
// tree-shaken and Deno keeps each module's text with its inline source map), so the parts an idle gateway
// does not use load on first use, and this test fails when one of them is imported eagerly again. The
// modules are read from V8 itself (the inspector's `Debugger.scriptParsed`), so dynamic imports that do
// run at start are counted too. bench/idle_rss.ts measures what the modules cost.
import assert from "node:assert/strict";
import { connectGateway } from "../lib/client/connection.ts";
import { freePort, runnerEnv, spawnRunner } from "./_runner_process.ts";

const ROOT = new URL("../", import.meta.url).href;
const TOKEN = "graph-test-token-0123456789abcdef";

/** A module that must stay out of the idle gateway, and why it may. */
const LAZY: [prefix: string, loadedWhen: string][] = [
  ["lib/ui/assets.ts", "the first request for the Control UI page"],
  ["lib/ui/root-ui.ts", "gateway.controlUi.root"],
  ["lib/providers/anthropic.ts", "the first call to an anthropic-messages provider"],
  ["lib/providers/openai-compatible.ts", "the first call to an OpenAI-compatible provider"],
  ["lib/providers/upstream-call.ts", "the first call to an HTTP provider"],
  ["lib/transports/deno/native.ts", "a start with gateway.transport.engine = native"],
  ["lib/agents/session-lifecycle-methods.ts", "the first sessions.create/patch/delete"],
  ["lib/agents/compaction.ts", "the first sessions.compact"],
  ["lib/agents/ui-methods.ts", "the first of the Control UI's agent lookups"],
  ["lib/methods/config.ts", "the first config.* call"],
  ["lib/methods/config-document.ts", "the first config.* call"],
  ["runner/gateway/config-file-writer.ts", "the first config.* call"],
  ["lib/cron/cron-expr.ts", "the first cron.* call or a stored job"],
  ["lib/cron/cron-runtime.ts", "the first cron.* call or a stored job"],
  ["lib/nodes/nodes-runtime.ts", "the first node.* call or a node's connect"],
  ["lib/hooks/", "hooks.enabled"],
  ["lib/state/redis/", "a Redis store in the config"],
  ["lib/http/openai/chat-completions", "the first /v1/chat/completions request"],
  ["runner/gateway/port-holder.ts", "a start that finds its port taken"],
  ["runner/cli/help.ts", "a help request or a usage error"],
  ["runner/commands/ops/", "an operator command (status, doctor, service, ...)"],
  ["runner/commands/config.ts", "`openclaw config`"],
  ["runner/commands/setup.ts", "`openclaw setup`"],
  // The barrels re-export what a module's users may want; the runner imports the module files themselves.
  ["lib/agents/mod.ts", "never, in the runner"],
  ["lib/channels/mod.ts", "never, in the runner"],
  ["lib/cron/mod.ts", "never, in the runner"],
  ["lib/metrics/mod.ts", "never, in the runner"],
  ["lib/nodes/mod.ts", "never, in the runner"],
  ["lib/tools/mod.ts", "never, in the runner"],
  ["lib/ui/mod.ts", "never, in the runner"],
];

/** Minimal Chrome DevTools Protocol client: commands by id, events to `onEvent`. */
async function inspector(url: string, onEvent: (method: string, params: Record<string, unknown>) => void) {
  const socket = new WebSocket(url);
  await new Promise((resolve, reject) => {
    socket.onopen = resolve;
    socket.onerror = reject;
  });
  const pending = new Map<number, (result: unknown) => void>();
  let nextId = 0;
  socket.onmessage = (event) => {
    const message = JSON.parse(event.data);
    if (message.id !== undefined) pending.get(message.id)?.(message.result);
    else onEvent(message.method, message.params);
  };
  return {
    send(method: string, params: Record<string, unknown> = {}): Promise<unknown> {
      const id = ++nextId;
      socket.send(JSON.stringify({ id, method, params }));
      return new Promise((resolve) => pending.set(id, resolve));
    },
    close: () => socket.close(),
  };
}

async function until<T>(probe: () => T | undefined | Promise<T | undefined>, what: string): Promise<T> {
  const deadline = Date.now() + 30_000;
  for (;;) {
    const value = await probe();
    if (value !== undefined) return value;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 10));
  }
}

/** What only `--dev` needs: writing the dev config and looking for a local model server. */
const DEV_ONLY = [
  "runner/gateway/dev-profile.ts",
  "runner/config/config-writer.ts",
  "lib/providers/local-servers.ts",
];

/**
 * The repo modules (paths from the repo root) a gateway (`dev`: started with `--dev`, as `deno task dev`;
 * otherwise as a service starts it) has evaluated by its first `hello-ok`.
 */
async function modulesAtFirstHello(dev: boolean): Promise<Set<string>> {
  const home = await Deno.makeTempDir();
  const state = `${home}/${dev ? ".openclaw-dev" : ".openclaw"}`;
  await Deno.mkdir(state);
  await Deno.writeTextFile(
    `${state}/openclaw.json`,
    JSON.stringify({ gateway: { mode: "local", auth: { mode: "token", token: TOKEN } } }),
  );
  const port = freePort();
  const args = [...(dev ? ["--dev"] : []), "gateway", "--port", String(port)];
  const proc = spawnRunner(args, runnerEnv(home), {
    denoFlags: ["--inspect-wait=127.0.0.1:0"],
  });
  const modules = new Set<string>();
  try {
    const url = await until(
      () => proc.stderr.map((line) => /Debugger listening on (ws:\/\/\S+)/.exec(line)?.[1]).find(Boolean),
      "the inspector's address",
    );
    const client = await inspector(url, (method, params) => {
      const script = String(params.url ?? "");
      if (
        method === "Debugger.scriptParsed" && script.startsWith(ROOT) && !script.includes("/node_modules/")
      ) {
        modules.add(script.slice(ROOT.length));
      }
    });
    await client.send("Debugger.enable");
    await client.send("Runtime.runIfWaitingForDebugger");
    await until(async () => {
      try {
        const response = await fetch(`http://127.0.0.1:${port}/health`);
        await response.body?.cancel();
        return response.ok || undefined;
      } catch {
        return undefined;
      }
    }, "/health");
    const connection = await connectGateway({
      url: `ws://127.0.0.1:${port}`,
      WebSocket,
      client: { id: "cli", mode: "cli", version: "test", platform: Deno.build.os },
      token: TOKEN,
      scopes: ["operator.read"],
    });
    connection.close();
    // Modules imported while the connection closes are counted too.
    await new Promise((resolve) => setTimeout(resolve, 200));
    client.close();
    return modules;
  } finally {
    await proc.stop("SIGKILL");
    await Deno.remove(home, { recursive: true });
  }
}

/** Every .ts file under lib/ and runner/, as a path from the repo root. */
function repoFiles(): string[] {
  const files: string[] = [];
  const walk = (dir: string) => {
    for (const entry of Deno.readDirSync(new URL(dir, ROOT))) {
      if (entry.isDirectory) walk(`${dir}${entry.name}/`);
      else if (entry.name.endsWith(".ts")) files.push(`${dir}${entry.name}`);
    }
  };
  walk("lib/");
  walk("runner/");
  return files;
}

Deno.test("runner from sources: an idle dev gateway evaluates none of the modules that load on first use", async () => {
  // Each entry names files that exist, so a renamed module cannot pass unnoticed.
  const files = repoFiles();
  for (const [prefix] of LAZY) {
    assert.ok(files.some((file) => file.startsWith(prefix)), `${prefix} names no file`);
  }
  const modules = await modulesAtFirstHello(true);
  assertStarted(modules);
  assert.deepEqual(eagerOf(modules, LAZY), []);
});

Deno.test("runner from sources: a start without --dev (as the service's) leaves out the dev profile's setup too", async () => {
  for (const file of DEV_ONLY) assert.ok(repoFiles().includes(file), `${file} names no file`);
  const modules = await modulesAtFirstHello(false);
  assertStarted(modules);
  assert.deepEqual(
    eagerOf(modules, [...LAZY, ...DEV_ONLY.map((file): [string, string] => [file, "--dev"])]),
    [],
  );
});

/** The inspector saw the gateway start: these are what serving a hello-ok takes. */
function assertStarted(modules: Set<string>): void {
  for (
    const needed of [
      "runner/main.ts",
      "runner/commands/gateway-run.ts",
      "lib/gateway.ts",
      "lib/agents/runtime.ts",
    ]
  ) {
    assert.ok(modules.has(needed), `${needed} not seen: ${[...modules].join(" ")}`);
  }
}

/** The modules of `modules` that `lazy` says load on first use, each with when it may load. */
function eagerOf(modules: Set<string>, lazy: [string, string][]): string[] {
  return lazy.flatMap(([prefix, loadedWhen]) =>
    [...modules].filter((module) => module.startsWith(prefix)).map((module) =>
      `${module} (lazy until ${loadedWhen})`
    )
  );
}
