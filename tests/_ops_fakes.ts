// Shared fakes for the operator-command and installer tests: a recording command runner and temp dirs.
import type { CommandResult, CommandRunner, ServiceFiles } from "../lib/service/types.ts";
import { createGateway, type Gateway } from "../mod.ts";
import { nodeTransport } from "../node.ts";
import { runCli } from "../runner/cli/dispatch.ts";
import { nodeServiceFiles } from "../lib/service/node-host.ts";
import { commandCatalog } from "../runner/cli/command-table.ts";
import { denoOpsHost, type OpsHost } from "../runner/commands/ops/host.ts";

/** A command runner that records every call as one string and answers from `respond` (default: exit 0). */
export function recordingRunner(
  respond: (command: string, args: string[]) => Partial<CommandResult> | undefined = () => undefined,
): { run: CommandRunner; calls: string[] } {
  const calls: string[] = [];
  const run: CommandRunner = (command, args) => {
    calls.push([command, ...args].join(" "));
    return Promise.resolve({ code: 0, stdout: "", stderr: "", ...respond(command, args) });
  };
  return { run, calls };
}

/** A fresh temp directory removed when `body` finishes. */
export async function withTempDir<T>(body: (dir: string) => Promise<T>): Promise<T> {
  const dir = await Deno.makeTempDir({ prefix: "openclaw-ops-" });
  try {
    return await body(dir);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
}

export const OPS_TOKEN = "ops-test-token-0123456789";

/** A real core gateway on a free loopback port (Node transport), with token auth. */
export async function startLoopbackGateway(token = OPS_TOKEN): Promise<{ gateway: Gateway; port: number }> {
  const gateway = createGateway({
    config: { gateway: { auth: { mode: "token", token } } },
    transport: nodeTransport(),
    port: 0,
    hostname: "127.0.0.1",
  });
  const address = await gateway.start();
  return { gateway, port: address!.port };
}

/** A loopback port nothing listens on. */
export function freePort(): number {
  const listener = Deno.listen({ hostname: "127.0.0.1", port: 0 });
  const port = (listener.addr as Deno.NetAddr).port;
  listener.close();
  return port;
}

/** An ops host for a Linux machine whose init system is the recording runner and whose HOME is `home`. */
export function fakeLinuxHost(home: string, run: CommandRunner): OpsHost {
  const real = denoOpsHost();
  return {
    ...real,
    platform: "linux",
    homeDir: () => home,
    uid: () => 1000,
    run,
    files: nodeServiceFiles,
    launcher: () => ["/usr/local/bin/deno", "run", "-A", "/srv/openclaw/runner/main.ts"],
    systemUnitDir: `${home}/etc-systemd-system`,
  };
}

/** Runs the CLI with the operator commands on `host`, capturing stdout/stderr. */
export async function runOps(
  host: OpsHost,
  argv: string[],
  env: Record<string, string | undefined>,
): Promise<{ code: number; out: string; err: string }> {
  const out: string[] = [];
  const err: string[] = [];
  const code = await runCli(argv, {
    output: { out: (t) => out.push(t), err: (t) => err.push(t) },
    env,
    osHome: env.HOME ?? "/nonexistent",
    shutdownSignal: new AbortController().signal,
    commands: commandCatalog({ isTerminal: false }, host),
    version: "test",
  });
  return { code, out: out.join("\n"), err: err.join("\n") };
}

/** Writes `config` as the default profile's openclaw.json under `home` (dirs 0700, file 0600). */
export async function writeConfig(home: string, config: unknown): Promise<string> {
  const dir = `${home}/.openclaw`;
  await Deno.mkdir(dir, { recursive: true, mode: 0o700 });
  await Deno.chmod(dir, 0o700);
  const path = `${dir}/openclaw.json`;
  await Deno.writeTextFile(path, JSON.stringify(config, null, 2), { mode: 0o600 });
  return path;
}

/**
 * Service files kept in memory, for installers of another OS: a Windows path (`C:\…` or `…\.openclaw`) on
 * Linux would otherwise become a file name with backslashes next to the test's temp dir.
 */
export function memoryServiceFiles(): ServiceFiles & { texts: Map<string, string> } {
  const texts = new Map<string, string>();
  const modes = new Map<string, number>();
  return {
    texts,
    readText: (path) => Promise.resolve(texts.get(path)),
    writeText(path, text, options = {}) {
      texts.set(path, text);
      modes.set(path, options.mode ?? 0o644);
      return Promise.resolve();
    },
    remove(path) {
      texts.delete(path);
      modes.delete(path);
      return Promise.resolve();
    },
    mode: (path) => Promise.resolve(modes.get(path)),
    chmod(path, mode) {
      modes.set(path, mode);
      return Promise.resolve();
    },
    mkdir(path, mode) {
      modes.set(path, mode ?? 0o755);
      return Promise.resolve();
    },
    list(path) {
      const prefix = /[\\/]$/.test(path) ? path : `${path}${path.includes("\\") ? "\\" : "/"}`;
      return Promise.resolve(
        [...texts.keys()].filter((k) => k.startsWith(prefix)).map((k) => k.slice(prefix.length)),
      );
    },
  };
}
