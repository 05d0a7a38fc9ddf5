/**
 * One receiving process of bench/cluster.ts's broadcast rows (`--receivers K`): holds its share of the
 * authenticated sockets and reports when its sockets got the broadcast, on the clock all processes share
 * (`wallNow`). With every socket in the bench process, that process's own ~10,000 `onmessage` calls set the
 * arrival of the last one; spread over K processes they run on as many cores as the machine has free.
 *
 *   deno run -A bench/_broadcast_receiver.ts <port> <count> <token>
 *
 * Speaks JSON lines: prints `{"held","connectMs","failure"}` once connected, then answers each command
 * read from stdin — `clock` → `{"now"}`, `arm <marker>` → `{"armed"}` and later `{"first","last"}` (the
 * first and last arrival of a frame containing the marker), `close` → `{"closed"}` and exits.
 */
import { closeAll, connectFrame, hold, lines, wallNow } from "./_held_sockets.ts";

const [port, count, token] = Deno.args;
const print = (line: unknown) => console.log(JSON.stringify(line));
const { held, connectMs, failure } = await hold(Number(port), Number(count), connectFrame("backend", token));
print({ held: held.length, connectMs, failure });

/** Listens for the frame that contains `marker`. */
function arm(marker: string): void {
  let first = Infinity;
  let last = 0;
  let left = held.length;
  for (const ws of held) {
    ws.onmessage = (e) => {
      if (!String(e.data).includes(marker)) return;
      const now = wallNow();
      if (now < first) first = now;
      last = now;
      ws.onmessage = null;
      if (--left === 0) print({ first, last });
    };
  }
  print({ armed: true });
}

for await (const command of lines(Deno.stdin.readable)) {
  if (command === "clock") print({ now: wallNow() });
  else if (command.startsWith("arm ")) arm(command.slice(4));
  else if (command === "close") {
    await closeAll(held);
    print({ closed: true });
    break;
  }
}
Deno.exit(0);
