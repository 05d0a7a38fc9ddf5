// bench/cluster.ts's broadcast rows hold their sockets in K receiving processes (bench/_receivers.ts) and
// compare the arrivals on one clock: every socket of every process reports the broadcast once, and the
// arrivals land after the moment the bench triggered it, on the bench's own clock.
import assert from "node:assert/strict";
import { handshake, lines, wallNow } from "../bench/_held_sockets.ts";
import { startReceivers } from "../bench/_receivers.ts";

const FLOOR = new URL("../bench/_broadcast_floor.ts", import.meta.url).pathname;

Deno.test("broadcast receivers: sockets spread over processes, arrivals on the bench's clock", async () => {
  const floor = new Deno.Command(Deno.execPath(), { args: ["run", "-A", FLOOR], stdout: "piped" }).spawn();
  const output = lines(floor.stdout);
  const port = Number((await output.next()).value);
  const receivers = await startReceivers(port, 31, 3, "unused-by-the-floor");
  try {
    assert.equal(receivers.held, 31);
    assert.equal(receivers.pids.length, 3);
    const marker = "bench-announcer-test";
    const { arrivals } = await receivers.arm(marker);
    const t0 = wallNow();
    const announcer = await handshake(port, JSON.stringify({ type: "req", id: "c", method: "connect" }));
    announcer.send(
      JSON.stringify({ type: "req", id: "b", method: "broadcast", params: { instanceId: marker } }),
    );
    const { first, last } = await arrivals;
    assert.ok(first <= last);
    assert.ok(first >= t0 - receivers.clockErrorMs, `first ${first} before the trigger ${t0}`);
    announcer.close();
    await new Promise((r) => announcer.onclose = r);
  } finally {
    await receivers.close();
    floor.kill("SIGTERM");
    await floor.status;
    await output.return(undefined);
  }
});
