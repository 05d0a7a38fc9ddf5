/**
 * What `system.info` reports about the machine, read with Deno's own APIs (the library's adapter uses
 * `node:os`, which would load Deno's node compatibility layer on the gateway path).
 *
 * @module
 */
import type { HostInfo } from "../../lib/methods/absent-features.ts";

/** Node's names for the OS family and CPU, which clients of the reference expect. */
const PLATFORMS: Readonly<Record<string, string>> = { windows: "win32" };
const ARCHES: Readonly<Record<string, string>> = { x86_64: "x64", aarch64: "arm64" };
const OS_TYPES: Readonly<Record<string, string>> = {
  linux: "Linux",
  darwin: "Darwin",
  windows: "Windows_NT",
};

/** Reads the host facts now. */
export function readDenoHostInfo(): HostInfo {
  const memory = Deno.systemMemoryInfo();
  const [one, five, fifteen] = Deno.loadavg();
  const release = Deno.osRelease();
  const os = Deno.build.os;
  return {
    hostname: Deno.hostname(),
    platform: PLATFORMS[os] ?? os,
    release,
    arch: ARCHES[Deno.build.arch] ?? Deno.build.arch,
    osLabel: `${OS_TYPES[os] ?? os} ${release}`,
    cpuCount: navigator.hardwareConcurrency,
    loadAverage: [one, five, fifteen],
    memoryTotalBytes: memory.total,
    memoryFreeBytes: memory.free,
    pid: Deno.pid,
    // Deno is not Node: it names no Node version without its node compatibility layer.
    nodeVersion: "",
    uptimeMs: Math.round(performance.now()),
  };
}
