/**
 * What `system.info` reports about the machine the gateway runs on, through `node:os`: the host reader a
 * Node embedder passes to `controlUiModule({ hostInfo })`, exported from `./node`. A layer adapter kept
 * next to the `HostInfo` it fills (absent-features.ts), so the root entry point's graph stays free of
 * `node:` modules. The runner reads the same facts with Deno's own APIs instead
 * (runner/gateway/deno-host-info.ts), since `node:os` would load Deno's Node compatibility layer.
 *
 * @module
 */
import { arch, cpus, freemem, hostname, loadavg, platform, release, totalmem, type } from "node:os";
import process from "node:process";
import type { HostInfo } from "./absent-features.ts";

/**
 * Reads the host facts now.
 *
 * @example `system.info` on a Node host
 * ```ts
 * import { controlUiModule, createGateway } from "@openclaw-ts/gateway";
 * import { readNodeHostInfo } from "@openclaw-ts/gateway/node";
 *
 * const gateway = createGateway({
 *   config: { gateway: { auth: { token: "s3cret" } } },
 *   modules: [controlUiModule({ hostInfo: readNodeHostInfo })],
 * });
 * await gateway.start();
 * const info = await gateway.call("system.info", {}) as { hostname: string; cpuCount: number };
 * if (!info.hostname || info.cpuCount < 1) throw new Error(JSON.stringify(info));
 * await gateway.stop();
 * ```
 */
export function readNodeHostInfo(): HostInfo {
  const cores = cpus();
  const [one, five, fifteen] = loadavg();
  return {
    hostname: hostname(),
    platform: platform(),
    release: release(),
    arch: arch(),
    osLabel: `${type()} ${release()}`,
    cpuCount: cores.length,
    ...(cores[0]?.model ? { cpuModel: cores[0].model } : {}),
    loadAverage: [one, five, fifteen],
    memoryTotalBytes: totalmem(),
    memoryFreeBytes: freemem(),
    pid: process.pid,
    nodeVersion: process.versions.node ?? "",
    uptimeMs: Math.round(process.uptime() * 1000),
  };
}
