/**
 * What `system.info` reports about the machine the gateway runs on. The one place the methods read the
 * operating system, so it is a layer adapter (`node:os` works under Deno, Node and Bun alike).
 *
 * @module
 */
import { arch, cpus, freemem, hostname, loadavg, platform, release, totalmem, type } from "node:os";
import process from "node:process";

/** The host facts `system.info` needs. */
export interface HostInfo {
  /** The machine's host name. */
  hostname: string;
  /** The OS family as Node names it (`linux`, `darwin`, `win32`). */
  platform: string;
  /** The OS kernel release. */
  release: string;
  /** The CPU architecture (`x64`, `arm64`). */
  arch: string;
  /** The OS name and release, for people. */
  osLabel: string;
  /** Logical CPUs. */
  cpuCount: number;
  /** The first CPU's model name, when the OS tells it. */
  cpuModel?: string;
  /** The 1, 5 and 15 minute load averages (zeros where the OS has none). */
  loadAverage: [number, number, number];
  /** Physical memory in bytes. */
  memoryTotalBytes: number;
  /** Free physical memory in bytes. */
  memoryFreeBytes: number;
  /** The gateway's process id. */
  pid: number;
  /** The Node-compatible version the runtime reports (Deno reports the Node API level it implements). */
  nodeVersion: string;
  /** Milliseconds since the process started. */
  uptimeMs: number;
}

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
