/**
 * `gateway --force`: finds the processes listening on a TCP port (Linux `/proc`) and stops them, TERM
 * first and KILL after a grace period, so a stale gateway does not block the new one.
 *
 * @module
 */
import { pidAlive } from "./lock.ts";

/** Socket inodes listening on `port` (IPv4 and IPv6), from `/proc/net/tcp*`. */
async function listeningInodes(port: number): Promise<Set<string>> {
  const inodes = new Set<string>();
  const hexPort = port.toString(16).toUpperCase().padStart(4, "0");
  for (const table of ["/proc/net/tcp", "/proc/net/tcp6"]) {
    const text = await Deno.readTextFile(table).catch(() => "");
    for (const line of text.split("\n").slice(1)) {
      const cols = line.trim().split(/\s+/);
      // cols[1] is local "ADDR:PORT", cols[3] the state (0A = LISTEN), cols[9] the inode.
      if (cols.length > 9 && cols[1].endsWith(`:${hexPort}`) && cols[3] === "0A") inodes.add(cols[9]);
    }
  }
  return inodes;
}

/** Pids of the processes holding a listening socket on `port` (empty where `/proc` is unavailable). */
export async function listenerPids(port: number): Promise<number[]> {
  const inodes = await listeningInodes(port);
  if (inodes.size === 0) return [];
  const pids: number[] = [];
  for await (const entry of Deno.readDir("/proc")) {
    const pid = Number(entry.name);
    if (!Number.isInteger(pid) || pid === Deno.pid) continue;
    try {
      for await (const fd of Deno.readDir(`/proc/${pid}/fd`)) {
        const target = await Deno.readLink(`/proc/${pid}/fd/${fd.name}`).catch(() => "");
        const inode = target.match(/^socket:\[(\d+)\]$/)?.[1];
        if (inode && inodes.has(inode)) {
          pids.push(pid);
          break;
        }
      }
    } catch { /* another user's process, or gone */ }
  }
  return pids;
}

/** Stops whatever listens on `port`; returns the pids it signalled. */
export async function freePort(port: number, graceMs = 3000): Promise<number[]> {
  const pids = await listenerPids(port);
  for (const pid of pids) signal(pid, "SIGTERM");
  const deadline = Date.now() + graceMs;
  while (pids.some(pidAlive) && Date.now() < deadline) await new Promise((r) => setTimeout(r, 100));
  for (const pid of pids.filter(pidAlive)) signal(pid, "SIGKILL");
  return pids;
}

function signal(pid: number, name: "SIGTERM" | "SIGKILL"): void {
  try {
    Deno.kill(pid, name);
  } catch { /* it exited on its own */ }
}
