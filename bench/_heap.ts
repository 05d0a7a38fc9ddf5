// The V8 inspector of a target started with `--inspect`: forces a full GC and reads the heap that
// survived it, or writes a heap snapshot, so soak phases can tell retained memory from garbage not yet
// collected without changing the gateway.

/** One inspector session over the target's debugger WebSocket. */
export interface HeapProbe {
  /** `Deno.memoryUsage()` of the target (bytes) right after a forced full GC. */
  afterGc(): Promise<Deno.MemoryUsage>;
  /** Writes a `.heapsnapshot` (taken after a full GC) to `path`. */
  snapshot(path: string): Promise<void>;
  close(): void;
}

/** Connects to the inspector listening on `port` (the first target it lists). */
export async function connectHeapProbe(port: number, timeoutMs = 30_000): Promise<HeapProbe> {
  const deadline = performance.now() + timeoutMs;
  let url: string | undefined;
  while (!url) {
    try {
      const list = await (await fetch(`http://127.0.0.1:${port}/json/list`)).json();
      url = list[0]?.webSocketDebuggerUrl;
    } catch { /* not listening yet */ }
    if (!url) {
      if (performance.now() > deadline) throw new Error(`no inspector on port ${port}`);
      await new Promise((r) => setTimeout(r, 50));
    }
  }
  const ws = new WebSocket(url);
  await new Promise((resolve, reject) => {
    ws.onopen = resolve;
    ws.onerror = () => reject(new Error(`cannot open inspector ${url}`));
  });
  let nextId = 0;
  const pending = new Map<number, (result: Record<string, unknown>) => void>();
  let chunks: string[] = [];
  ws.onmessage = (e) => {
    const msg = JSON.parse(e.data);
    if (msg.method === "HeapProfiler.addHeapSnapshotChunk") chunks.push(msg.params.chunk);
    else if (msg.id !== undefined) {
      pending.get(msg.id)?.(msg.error ? Promise.reject(new Error(msg.error.message)) : msg.result);
      pending.delete(msg.id);
    }
  };
  const call = (method: string, params: Record<string, unknown> = {}) =>
    new Promise<Record<string, unknown>>((resolve) => {
      const id = ++nextId;
      pending.set(id, resolve);
      ws.send(JSON.stringify({ id, method, params }));
    });
  return {
    async afterGc() {
      await call("HeapProfiler.collectGarbage");
      await call("HeapProfiler.collectGarbage");
      const result = await call("Runtime.evaluate", {
        expression: "Deno.memoryUsage()",
        returnByValue: true,
      });
      return (result.result as { value: Deno.MemoryUsage }).value;
    },
    async snapshot(path) {
      await call("HeapProfiler.collectGarbage");
      chunks = [];
      await call("HeapProfiler.takeHeapSnapshot", { reportProgress: false });
      await Deno.writeTextFile(path, chunks.join(""));
      chunks = [];
    },
    close: () => ws.close(),
  };
}
