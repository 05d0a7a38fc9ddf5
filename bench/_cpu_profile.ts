/**
 * A CPU profile of another process over the inspector protocol (Deno's `--inspect` and Node's speak the
 * same one), taken around one piece of work, and its self time summed per function: what share of the
 * busy time went where, a figure that holds on a busy machine where wall times do not.
 */

/** A process being profiled; `stop` ends the profile and sums it. */
export interface Profiling {
  stop(): Promise<ProfileSummary>;
}

/** Busy (non-idle) ms in the profile and the functions with the most self time. */
export interface ProfileSummary {
  busyMs: number;
  top: { name: string; ms: number; share: number }[];
}

interface ProfileNode {
  id: number;
  callFrame: { functionName: string; url: string; lineNumber: number };
}

/** A session with the inspector on `inspectPort`: `call` sends one method and resolves with its result. */
async function inspector(inspectPort: number) {
  const [target] = await (await fetch(`http://127.0.0.1:${inspectPort}/json/list`)).json();
  const socket = new WebSocket(target.webSocketDebuggerUrl);
  await new Promise((resolve, reject) => {
    socket.onopen = resolve;
    socket.onerror = () => reject(new Error(`no inspector on ${inspectPort}`));
  });
  let ids = 0;
  const pending = new Map<number, (result: Record<string, unknown>) => void>();
  socket.onmessage = (e) => {
    const message = JSON.parse(e.data);
    pending.get(message.id)?.(message.result ?? {});
    pending.delete(message.id);
  };
  const call = (method: string, params = {}) =>
    new Promise<Record<string, unknown>>((resolve) => {
      pending.set(++ids, resolve);
      socket.send(JSON.stringify({ id: ids, method, params }));
    });
  return { call, close: () => socket.close() };
}

/** Connects to the inspector on `inspectPort` and starts sampling every `intervalUs` µs. */
export async function startProfiling(inspectPort: number, intervalUs = 100): Promise<Profiling> {
  const { call, close } = await inspector(inspectPort);
  await call("Profiler.enable");
  await call("Profiler.setSamplingInterval", { interval: intervalUs });
  await call("Profiler.start");
  return {
    async stop() {
      const { profile } = await call("Profiler.stop") as {
        profile: { nodes: ProfileNode[]; samples: number[]; timeDeltas: number[] };
      };
      close();
      return summarize(profile);
    },
  };
}

/**
 * Has the process behind `inspectPort` run a full garbage collection, so RSS read after it is what live
 * objects keep, not garbage a collection would take at some later time.
 */
export async function collectGarbage(inspectPort: number): Promise<void> {
  const { call, close } = await inspector(inspectPort);
  await call("HeapProfiler.collectGarbage");
  close();
}

function summarize(
  profile: { nodes: ProfileNode[]; samples: number[]; timeDeltas: number[] },
): ProfileSummary {
  const nodes = new Map(profile.nodes.map((node) => [node.id, node]));
  const self = new Map<string, number>();
  profile.samples.forEach((id, i) => {
    const { functionName, url, lineNumber } = nodes.get(id)!.callFrame;
    const file = url.replace(/^.*\/(lib|bench|ext|node_modules|node:internal)\//, "$1/").replace(
      /^file:\/\//,
      "",
    );
    const name = url ? `${functionName || "(anonymous)"} ${file}:${lineNumber + 1}` : functionName;
    self.set(name, (self.get(name) ?? 0) + (profile.timeDeltas[i] ?? 0) / 1000);
  });
  self.delete("(idle)");
  const busyMs = [...self.values()].reduce((a, b) => a + b, 0);
  const top = [...self].sort((a, b) => b[1] - a[1]).slice(0, 12)
    .map(([name, ms]) => ({ name, ms, share: ms / busyMs }));
  return { busyMs, top };
}
