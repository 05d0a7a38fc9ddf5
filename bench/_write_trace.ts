/**
 * When a server hands its frames to the kernel: `perf trace` on the server's write syscalls (`write`,
 * `writev`, `sendto`, `sendmsg`) during one broadcast. The time the server's own loop took says little on
 * its own: Node and the hardened Deno engine write inside it (a few hundred at a time, then the rest as
 * writes end), `Deno.upgradeWebSocket` only queues for Deno's writer. Tracing slows every syscall many times
 * over (10,000 writes take ~0.4 s under it here), so the traced broadcast is one more, apart from the timed
 * ones, and its span is to be read beside that broadcast's own arrivals. Needs `perf` and the right to trace.
 */

/** The broadcast's writes: how many, and ms from the first to the last (the kernel's clock). */
export interface WriteSpan {
  writes: number;
  spanMs: number;
}

// `  12.345 ( 0.010 ms): deno/123 sendto(fd: 36, buff: 0x…, len: 529, flags: NOSIGNAL) = 529`
const LINE = /^\s*([\d.]+) \(\s*[\d.]+ ms\): \S+ (?:sendto|write|writev|sendmsg)\(fd: (\d+).*\)\s+= (\d+)$/;

/** Starts tracing `pid`'s writes; `stop` ends it and picks the broadcast's frames out of them. */
export async function traceWrites(pid: number): Promise<{ stop(): Promise<WriteSpan> }> {
  const output = await Deno.makeTempFile({ prefix: "bench-write-trace-" });
  const perf = new Deno.Command("perf", {
    args: ["trace", "-p", String(pid), "-e", "write,writev,sendto,sendmsg", "-o", output],
    stdout: "null",
    stderr: "null",
  }).spawn();
  // perf attaches to the process's threads after it starts.
  await new Promise((r) => setTimeout(r, 500));
  return {
    async stop() {
      perf.kill("SIGINT");
      await perf.status;
      const writes = (await Deno.readTextFile(output)).split("\n").flatMap((line) => {
        const match = LINE.exec(line);
        return match && Number(match[2]) > 2 ? [{ at: Number(match[1]), bytes: Number(match[3]) }] : [];
      });
      await Deno.remove(output);
      return broadcastSpan(writes);
    },
  };
}

/**
 * The broadcast's frames are the writes of about the most common size (a frame differs from the next only
 * in its `seq` digits); the handshakes' writes around them are left out.
 */
function broadcastSpan(writes: { at: number; bytes: number }[]): WriteSpan {
  const counts = new Map<number, number>();
  for (const { bytes } of writes) counts.set(bytes, (counts.get(bytes) ?? 0) + 1);
  const common = [...counts].sort((a, b) => b[1] - a[1])[0]?.[0] ?? 0;
  const frames = writes.filter(({ bytes }) => Math.abs(bytes - common) <= 8);
  if (!frames.length) return { writes: 0, spanMs: 0 };
  return { writes: frames.length, spanMs: frames[frames.length - 1].at - frames[0].at };
}
