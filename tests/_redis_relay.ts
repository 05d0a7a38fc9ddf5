// A TCP relay in front of Redis that logs what each client sends through it, chunk by chunk: a chunk is
// what the client wrote at once, so Redis reads it (and fsyncs the writes in it) as one batch.
import { freePort } from "./_runner_process.ts";

/** One chunk a client sent: its connection's number, and each command's name and arguments. */
export interface SentChunk {
  /** The client connection, numbered in order of connection from 0. */
  conn: number;
  /** The command names, upper case (`EVALSHA`, `HGET`, ...). */
  commands: string[];
  /** Each command's arguments, as sent (for `EVALSHA`: the script's SHA, the key count, the keys, ...). */
  args: string[][];
}

/** The commands of a chunk of RESP arrays of bulk strings; an incomplete command at its end is left out. */
export function parseCommands(chunk: Uint8Array): Pick<SentChunk, "commands" | "args"> {
  const text = new TextDecoder().decode(chunk);
  const commands: string[] = [];
  const args: string[][] = [];
  let at = 0;
  const line = () => {
    const end = text.indexOf("\r\n", at);
    if (end < 0) return undefined;
    const value = text.slice(at, end);
    at = end + 2;
    return value;
  };
  while (at < text.length) {
    const head = line();
    if (!head?.startsWith("*")) break;
    const parts: string[] = [];
    for (let i = Number(head.slice(1)); i > 0; i--) {
      const size = line();
      if (!size?.startsWith("$")) break;
      const length = Number(size.slice(1));
      parts.push(text.slice(at, at + length));
      at += length + 2;
    }
    if (!parts.length || at > text.length) break;
    commands.push(parts[0].toUpperCase());
    args.push(parts.slice(1));
  }
  return { commands, args };
}

/** The first key `EVALSHA` ran its script on (its third argument), or the key of any other command. */
export function firstKey(command: string, args: string[]): string | undefined {
  return command === "EVALSHA" ? args[2] : args[0];
}

/**
 * A relay on a free loopback port forwarding to the Redis at `target`; every chunk a client sends is
 * pushed onto `log` before it is forwarded. Other entries the caller pushes keep their place among them.
 */
export function relay<T>(target: string, log: (SentChunk | T)[]): { url: string; close(): Promise<void> } {
  const port = freePort();
  const listener = Deno.listen({ hostname: "127.0.0.1", port });
  const conns: Deno.Conn[] = [];
  let next = 0;
  const pump = async (from: Deno.Conn, to: Deno.Conn, onChunk?: (chunk: Uint8Array) => void) => {
    try {
      for await (const chunk of from.readable.values({ preventCancel: true })) {
        onChunk?.(chunk);
        await to.write(chunk);
      }
    } catch { /* closed */ }
  };
  const accepting = (async () => {
    for await (const conn of listener) {
      const id = next++;
      const upstream = await Deno.connect({ hostname: "127.0.0.1", port: Number(new URL(target).port) });
      conns.push(conn, upstream);
      pump(conn, upstream, (chunk) => log.push({ conn: id, ...parseCommands(chunk) }));
      pump(upstream, conn);
    }
  })().catch(() => {});
  return {
    url: `redis://127.0.0.1:${port}`,
    async close() {
      listener.close();
      for (const conn of conns) {
        try {
          conn.close();
        } catch { /* already closed */ }
      }
      await accepting;
    },
  };
}
