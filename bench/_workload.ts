// Client-side workload pieces shared by bench/side_by_side.ts and bench/soak.ts: protocol v4 handshakes,
// an RPC pump, held sockets, HTTP timing, and resident memory of a whole process tree from /proc.

/** Connect params every bench client sends (a backend client, so it adds no presence row). */
export function connectParams(token: string, mode = "backend", scopes = ["operator.read", "operator.write"]) {
  return {
    minProtocol: 4,
    maxProtocol: 4,
    client: { id: "gateway-client", version: "bench", platform: "linux", mode },
    role: "operator",
    scopes,
    auth: { token },
  };
}

/**
 * Opens a socket and completes challenge → connect → hello-ok; resolves with the open socket. A `webchat`
 * client adds a presence row, so its arrival and departure fan out to every other socket.
 */
export function handshake(
  url: string,
  token: string,
  timeoutMs = 10_000,
  mode = "backend",
  scopes?: string[],
): Promise<WebSocket> {
  return new Promise((resolve, reject) => {
    const ws = new WebSocket(url);
    const timer = setTimeout(() => {
      ws.close();
      reject(new Error(`handshake with ${url} took over ${timeoutMs} ms`));
    }, timeoutMs);
    ws.onerror = () => {
      clearTimeout(timer);
      reject(new Error(`socket error on ${url}`));
    };
    ws.onmessage = (e) => {
      const frame = JSON.parse(e.data);
      if (frame.event === "connect.challenge") {
        ws.send(
          JSON.stringify({
            type: "req",
            id: "c",
            method: "connect",
            params: connectParams(token, mode, scopes),
          }),
        );
      } else if (frame.id === "c") {
        clearTimeout(timer);
        ws.onmessage = null;
        frame.ok ? resolve(ws) : reject(new Error(JSON.stringify(frame.error)));
      }
    };
  });
}

/** Closes sockets and waits for their close events. */
export async function closeAll(sockets: WebSocket[]): Promise<void> {
  await Promise.all(sockets.map((ws) =>
    new Promise<void>((resolve) => {
      if (ws.readyState === WebSocket.CLOSED) return resolve();
      ws.addEventListener("close", () => resolve());
      ws.close();
    })
  ));
}

/** Sorted-sample percentile. */
export function percentile(sorted: number[], p: number): number {
  return sorted[Math.min(sorted.length - 1, Math.floor(sorted.length * p))];
}

/** Times `n` sequential runs of `once`; returns sorted milliseconds. */
export async function timeSequential(n: number, once: () => Promise<void>): Promise<number[]> {
  const times: number[] = [];
  for (let i = 0; i < n; i++) {
    const t0 = performance.now();
    await once();
    times.push(performance.now() - t0);
  }
  return times.sort((a, b) => a - b);
}

/** Keeps `depth` `method` requests in flight on each socket for `ms`; counts responses (and errors). */
export async function pumpRpc(
  sockets: WebSocket[],
  method: string,
  depth: number,
  ms: number,
): Promise<{ ok: number; errors: number }> {
  const counts = { ok: 0, errors: 0 };
  const deadline = performance.now() + ms;
  await Promise.all(sockets.map((ws, c) =>
    new Promise<void>((resolve) => {
      let next = 0;
      let inflight = 0;
      const send = () => {
        inflight++;
        ws.send(JSON.stringify({ type: "req", id: `${c}-${next++}`, method, params: {} }));
      };
      ws.onmessage = (e) => {
        const text = String(e.data);
        if (!text.startsWith('{"type":"res"')) return;
        if (text.includes('"ok":true')) counts.ok++;
        else counts.errors++;
        inflight--;
        if (performance.now() < deadline) send();
        else if (inflight === 0) resolve();
      };
      ws.onclose = () => resolve();
      for (let i = 0; i < depth; i++) send();
    })
  ));
  for (const ws of sockets) ws.onmessage = null;
  return counts;
}

/** Opens `count` authenticated sockets, `batch` at a time. */
export async function holdSockets(
  url: string,
  token: string,
  count: number,
  batch = 50,
): Promise<WebSocket[]> {
  const held: WebSocket[] = [];
  for (let i = 0; i < count; i += batch) {
    const size = Math.min(batch, count - i);
    held.push(...await Promise.all(Array.from({ length: size }, () => handshake(url, token))));
  }
  return held;
}

/** One HTTP request, body drained; throws on a non-2xx. */
export async function httpOk(url: string, init: RequestInit = {}): Promise<void> {
  const res = await fetch(url, init);
  const body = await res.text();
  if (!res.ok) throw new Error(`${init.method ?? "GET"} ${url} → ${res.status}: ${body.slice(0, 200)}`);
}

/** Polls `url` until it answers 200; resolves with the elapsed ms since `since`. */
export async function waitHttp(url: string, since: number, timeoutMs = 120_000): Promise<number> {
  for (;;) {
    try {
      const res = await fetch(url);
      await res.body?.cancel();
      if (res.status === 200) return performance.now() - since;
    } catch { /* not listening yet */ }
    if (performance.now() - since > timeoutMs) {
      throw new Error(`${url} did not answer within ${timeoutMs} ms`);
    }
    await new Promise((r) => setTimeout(r, 5));
  }
}

/** `pid` and all its descendants, read from /proc. */
export function processTree(pid: number): number[] {
  const children = new Map<number, number[]>();
  for (const entry of Deno.readDirSync("/proc")) {
    if (!/^\d+$/.test(entry.name)) continue;
    try {
      const stat = Deno.readTextFileSync(`/proc/${entry.name}/stat`);
      const ppid = Number(stat.slice(stat.lastIndexOf(")") + 2).split(" ")[1]);
      children.set(ppid, [...(children.get(ppid) ?? []), Number(entry.name)]);
    } catch { /* exited meanwhile */ }
  }
  const tree: number[] = [];
  const stack = [pid];
  while (stack.length) {
    const next = stack.pop()!;
    tree.push(next);
    stack.push(...(children.get(next) ?? []));
  }
  return tree;
}

/** Resident memory of `pid` and its descendants, in MiB. */
export function treeRssMiB(pid: number): number {
  let kib = 0;
  for (const p of processTree(pid)) {
    try {
      kib += Number(/VmRSS:\s+(\d+)/.exec(Deno.readTextFileSync(`/proc/${p}/status`))?.[1] ?? 0);
    } catch { /* exited meanwhile */ }
  }
  return kib / 1024;
}

/** Open file descriptors of `pid` (sockets included). */
export function openFds(pid: number): number {
  return [...Deno.readDirSync(`/proc/${pid}/fd`)].length;
}

/** Prints a markdown table. */
export function printTable(header: string[], rows: (string | number)[][]): void {
  console.log(`| ${header.join(" | ")} |`);
  console.log(`| ${header.map(() => "---").join(" | ")} |`);
  for (const row of rows) console.log(`| ${row.join(" | ")} |`);
}
