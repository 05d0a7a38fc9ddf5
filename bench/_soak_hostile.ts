// bench/soak.ts `--phase hostile`: healthy clients (stateless chat completions) alone for a quiet stretch,
// then beside a bounded crowd of attackers for as long again, then alone again — half-sent bodies, idle sockets, oversize
// pre-auth frames, chunked floods to the webhook channel, wrong tokens over HTTP and WS. Every interval
// prints RSS, descriptors and the healthy clients' p99, so the two stretches can be compared.
import { waitUntil } from "./_attacks.ts";
import { startLoadUpstream } from "./_load_upstream.ts";
import { sharedConfig, startTarget } from "./_targets.ts";
import { openFds, percentile, printTable, treeRssMiB } from "./_workload.ts";

const TOKEN = "soak-token-0123456789abcdef";
const HEALTHY_CLIENTS = 8;

export async function hostileMix(seconds: number, every: number): Promise<void> {
  const upstream = startLoadUpstream();
  const target = await startTarget("ours", (port) => ({
    ...sharedConfig(port, TOKEN, upstream.url),
    channels: { webhook: { secret: "webhook-secret", outboundUrl: "http://127.0.0.1:9/" } },
  }));
  let phase: "quiet" | "hostile" | "after the attack" | "done" = "quiet";
  const times: number[] = [];
  const counts = { ok: 0, errors: 0, halfBodies: 0, idle: 0, frames: 0, chunked: 0, wrongTokens: 0 };
  const body = JSON.stringify({ model: "openclaw", messages: [{ role: "user", content: "soak" }] });
  const healthy = async () => {
    while (phase !== "done") {
      const t0 = performance.now();
      try {
        const res = await fetch(`${target.httpBase}/v1/chat/completions`, {
          method: "POST",
          headers: { authorization: `Bearer ${TOKEN}`, "content-type": "application/json" },
          body,
        });
        await res.text();
        if (res.ok) counts.ok++;
        else counts.errors++;
        times.push(performance.now() - t0);
      } catch {
        counts.errors++;
        await waitUntil(50);
      }
    }
  };
  // The attackers run on their own thread, so their busy loops do not slow the healthy clients' timing.
  const worker = new Worker(new URL("./_soak_attackers.ts", import.meta.url), { type: "module" });
  worker.onmessage = (e) => Object.assign(counts, e.data);
  const attackersDone = new Promise<void>((resolve) =>
    worker.addEventListener("message", (e) => e.data.done && resolve())
  );
  const rows: (string | number)[][] = [];
  const started = performance.now();
  let last = { ...counts };
  const sample = () => {
    const sorted = times.splice(0).sort((a, b) => a - b);
    rows.push([
      `${Math.round((performance.now() - started) / 1000)} s`,
      phase,
      treeRssMiB(target.pid).toFixed(1),
      openFds(target.pid),
      counts.ok - last.ok,
      counts.errors - last.errors,
      sorted.length ? percentile(sorted, 0.99).toFixed(1) : "",
      `${counts.halfBodies - last.halfBodies} / ${counts.idle - last.idle} / ${
        counts.frames - last.frames
      } / ${counts.chunked - last.chunked} / ${counts.wrongTokens - last.wrongTokens}`,
    ]);
    console.error(`[soak hostile] ${rows.at(-1)!.join(" | ")}`);
    last = { ...counts };
  };
  const sampler = setInterval(sample, every * 1000);
  const clients = Array.from({ length: HEALTHY_CLIENTS }, healthy);
  await waitUntil(seconds * 1000);
  phase = "hostile";
  worker.postMessage({ port: target.port, httpBase: target.httpBase });
  await waitUntil(seconds * 1000);
  worker.postMessage({ stop: true });
  await attackersDone;
  worker.terminate();
  phase = "after the attack";
  await waitUntil(seconds * 1000);
  clearInterval(sampler);
  sample();
  phase = "done";
  await Promise.all(clients);
  await target.stop();
  await upstream.close();

  console.log(
    `\nhostile mix: ${HEALTHY_CLIENTS} healthy clients; ${seconds} s quiet, ${seconds} s under attack, ${seconds} s after\n`,
  );
  printTable(
    [
      "t",
      "phase",
      "RSS (MiB)",
      "fds",
      "healthy ok",
      "healthy errors",
      "healthy p99 ms",
      "attacks: half bodies / idle sockets / 8 MiB frames / 32 MiB chunked / wrong tokens",
    ],
    rows,
  );
}
