/**
 * Authenticated gateway sockets for the socket benches: the connect frame, one challenge → connect → hello
 * handshake, and many sockets held at once. Shared by bench/cluster.ts and its receiving processes
 * (bench/_broadcast_receiver.ts), so every process connects the same way.
 */

/** A `connect` request for a client of `mode` holding `token` (and naming its `instanceId`, when given). */
export function connectFrame(mode: string, token: string, instanceId?: string): string {
  return JSON.stringify({
    type: "req",
    id: "c",
    method: "connect",
    params: {
      minProtocol: 4,
      maxProtocol: 4,
      client: { id: "gateway-client", version: "1", platform: "linux", mode, instanceId },
      role: "operator",
      scopes: ["operator.read", "operator.write"],
      auth: { token },
    },
  });
}

/**
 * Opens a socket and completes challenge → connect → hello; resolves with the socket. A `browser` one
 * sends an `Origin` (same origin), which makes its address's failed-auth counter apply, as for any client
 * that is not a local tool.
 */
export function handshake(port: number, frame: string, browser = false): Promise<WebSocket> {
  return new Promise((resolve, reject) => {
    const url = `ws://127.0.0.1:${port}`;
    // Deno's WebSocket takes request headers as a second argument.
    const ws = browser
      ? new WebSocket(url, { headers: { origin: `http://127.0.0.1:${port}` } } as unknown as string)
      : new WebSocket(url);
    ws.onerror = () => reject(new Error(`socket error on ${port}`));
    ws.onmessage = (e) => {
      const data = JSON.parse(e.data);
      if (data.event === "connect.challenge") ws.send(frame);
      else if (data.id === "c") {
        ws.onmessage = null;
        ws.onerror = null;
        data.ok ? resolve(ws) : reject(new Error(JSON.stringify(data.error)));
      }
    };
  });
}

/** Connects up to `count` sockets in batches of 50; stops at the first failing batch and says why. */
export async function hold(port: number, count: number, frame: string) {
  const held: WebSocket[] = [];
  const t0 = performance.now();
  let failure: string | undefined;
  while (held.length < count && !failure) {
    const batch = await Promise.allSettled(
      Array.from({ length: Math.min(50, count - held.length) }, () => handshake(port, frame)),
    );
    for (const result of batch) {
      if (result.status === "fulfilled") held.push(result.value);
      else failure ??= String(result.reason);
    }
  }
  return { held, connectMs: performance.now() - t0, failure };
}

/** Closes every socket and resolves once all are closed. */
export function closeAll(sockets: WebSocket[]): Promise<void[]> {
  return Promise.all(sockets.map((ws) =>
    new Promise<void>((r) => {
      if (ws.readyState === WebSocket.CLOSED) return r();
      ws.onclose = () => r();
      ws.close();
    })
  ));
}

/** Now on a clock every process on the host shares (ms since the epoch, sub-ms precision). */
export const wallNow = (): number => performance.timeOrigin + performance.now();

/** The lines of a byte stream (a child's stdout, our stdin), as they complete. */
export async function* lines(readable: ReadableStream<Uint8Array>): AsyncGenerator<string> {
  let buffer = "";
  for await (const text of readable.pipeThrough(new TextDecoderStream())) {
    buffer += text;
    const complete = buffer.split("\n");
    buffer = complete.pop()!;
    yield* complete;
  }
}
