// One event-loop sampler (lib/gateway/event-loop.ts) feeds both `health.eventLoop` and the metrics module's
// delay gauges (through `context.loopDelay()`): the second test fails if the gauges read anything else.
import assert from "node:assert/strict";
import { createEventLoopMonitor } from "../lib/gateway/event-loop.ts";
import { metricsModule, parseExposition } from "../mod.ts";
import { startGateway } from "./_helpers.ts";

const block = (ms: number) => {
  const until = performance.now() + ms;
  while (performance.now() < until) { /* hold the loop */ }
};
const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

Deno.test("the loop sampler keeps the last minute of lags: a blocked loop shows as the max", async () => {
  const monitor = createEventLoopMonitor();
  assert.deepEqual(monitor.recentDelay(), { p99Ms: 0, maxMs: 0 });
  monitor.start();
  try {
    await sleep(60);
    block(150);
    await sleep(60);
    const { p99Ms, maxMs } = monitor.recentDelay();
    assert.ok(maxMs >= 100, `max lag ${maxMs}`);
    assert.ok(p99Ms <= maxMs);
  } finally {
    monitor.stop();
  }
  assert.deepEqual(monitor.recentDelay(), { p99Ms: 0, maxMs: 0 });
});

Deno.test("the metrics' event-loop gauges read the gateway's sampler", async () => {
  const gateway = await startGateway({ modules: [metricsModule()] });
  try {
    await sleep(60);
    block(150);
    await sleep(60);
    const { text } = await gateway.call("metrics.snapshot", {}) as { text: string };
    const max = parseExposition(text).find((s) =>
      s.name === "openclaw_liveness_event_loop_delay_max_seconds"
    );
    assert.ok(max && max.value >= 0.1, JSON.stringify(max));
  } finally {
    await gateway.stop();
  }
});
