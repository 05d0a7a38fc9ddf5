/**
 * What `system.info` reports about the machine the gateway runs on, through `node:os` (which Deno, Node
 * and Bun all have). A layer adapter: the runner hands it to `controlUiModule({ hostInfo })`, so the root
 * entry point's graph stays free of `node:` modules.
 *
 * @module
 */
import { arch, cpus, freemem, hostname, loadavg, platform, release, totalmem, type } from "node:os";
import process from "node:process";
import type { HostInfo } from "./absent-features.ts";

/** Reads the host facts now. */
export function readHostInfo(): HostInfo {
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
