/**
 * Everything the operator commands take from the machine (init-system commands, files, sockets,
 * clock, platform), in one seam: commands are built from an {@link OpsHost}, so tests drive them with
 * a fake command runner and a temp HOME while the real CLI gets {@link denoOpsHost}.
 *
 * @module
 */
import { basename, dirname } from "node:path";
import { fileURLToPath } from "node:url";
import type { WebSocketConstructor } from "../../../lib/client/connection.ts";
import { nodeCommandRunner, nodeServiceFiles } from "../../../lib/service/node-host.ts";
import type { CommandRunner, ServiceFiles } from "../../../lib/service/types.ts";
import { type OpenFileLimit, readOpenFileLimit } from "../../gateway/open-files.ts";

/** The machine as the operator commands see it. */
export interface OpsHost {
  /** `linux`, `darwin`, `windows`, ... */
  platform: string;
  /** The OS account home, where per-user services live (not moved by `OPENCLAW_HOME`). */
  homeDir(env: Record<string, string | undefined>): string;
  uid(): number | undefined;
  run: CommandRunner;
  files: ServiceFiles;
  WebSocket: WebSocketConstructor;
  /** How a service launches this runner: `[deno, "run", "-A", "--config", ..., main.ts]` or `[exe]`. */
  launcher(): string[];
  /** Whether something accepts TCP connections on `127.0.0.1:<port>` (i.e. the port is taken). */
  portInUse(port: number): Promise<boolean>;
  /** A monotonic clock in ms, for round-trip times. */
  now(): number;
  /** The open-file limit of process `pid` (default: this one); undefined where it cannot be read. */
  openFileLimit(pid?: number): Promise<OpenFileLimit | undefined>;
  /** Where system-level units/daemons live; tests point these into a temp dir. */
  systemUnitDir?: string;
  systemDaemonDir?: string;
}

/**
 * How the bundle `deno task build` makes is run (by the service, `deno task install-cli`'s shim and the
 * benches): no config, since it carries its dependencies and a deno.json found near the state dir (where the
 * service starts) must not change how it runs; and dynamic imports loaded when they run, not with the
 * entry's module graph, so an idle gateway does not hold the chunks of commands it never runs (about 1.7 MiB
 * of RSS, bench/idle_rss.ts). Runs from the sources get the same setting from deno.json's `unstable` list.
 */
export const BUNDLE_RUN_FLAGS: readonly string[] = ["--no-config", "--unstable-lazy-dynamic-imports"];

function denoLauncher(): string[] {
  const exec = Deno.execPath();
  const name = basename(exec).toLowerCase();
  if (name !== "deno" && name !== "deno.exe") return [exec];
  const running = Deno.mainModule.startsWith("file:") ? fileURLToPath(Deno.mainModule) : "";
  if (running.endsWith(".js")) return [exec, "run", "-A", ...BUNDLE_RUN_FLAGS, running];
  const main = fileURLToPath(new URL("../../main.ts", import.meta.url));
  // The service starts in the state dir, where no deno.json would be found: name it explicitly.
  const config = `${dirname(dirname(main))}/deno.json`;
  return [exec, "run", "-A", "--config", config, main];
}

function denoPortInUse(port: number): Promise<boolean> {
  try {
    Deno.listen({ hostname: "127.0.0.1", port }).close();
    return Promise.resolve(false);
  } catch (err) {
    if (err instanceof Deno.errors.AddrInUse) return Promise.resolve(true);
    return Promise.reject(err);
  }
}

/** The host for the real CLI under Deno. */
export function denoOpsHost(): OpsHost {
  return {
    platform: Deno.build.os,
    homeDir: (env) => env.HOME || env.USERPROFILE || Deno.env.get("HOME") || ".",
    uid: () => Deno.uid() ?? undefined,
    run: nodeCommandRunner,
    files: nodeServiceFiles,
    WebSocket: globalThis.WebSocket,
    launcher: denoLauncher,
    portInUse: denoPortInUse,
    now: () => performance.now(),
    openFileLimit: readOpenFileLimit,
  };
}
