// bench/cluster.ts's broadcast rows hold their sockets in bench/_broadcast_receiver.c by default: it must
// speak the Deno receiver's JSON lines to bench/_receivers.ts, complete the real handshake (the bare floor
// checks none, so the gateway's own is run too), and report each socket's arrival once, on the bench's clock,
// through the gateway's own frames too.
import assert from "node:assert/strict";
import { connectFrame, handshake, lines, wallNow } from "../bench/_held_sockets.ts";
import { cReceiver, startReceivers } from "../bench/_receivers.ts";
import { createGateway } from "../mod.ts";
import { denoTransport } from "../deno.ts";

const FLOOR = new URL("../bench/_broadcast_floor.ts", import.meta.url).pathname;
const SOURCE = new URL("../bench/_broadcast_receiver.c", import.meta.url).pathname;

/** Whether this machine has a C compiler (without one, bench/cluster.ts uses the Deno receiver). */
function hasCc(): boolean {
  try {
    return new Deno.Command("cc", { args: ["--version"], stdout: "null", stderr: "null" }).outputSync()
      .success;
  } catch {
    return false;
  }
}

/** Runs `use` with the receiver built by `cc` (warnings are errors) into a temp dir, removed after. */
async function withReceiver(use: (binary: string) => Promise<void>): Promise<void> {
  const dir = await Deno.makeTempDir({ prefix: "broadcast-receiver-c-" });
  try {
    const binary = `${dir}/receiver`;
    const built = await new Deno.Command("cc", {
      args: ["-O2", "-Wall", "-Wextra", "-Werror", "-o", binary, SOURCE],
    }).output();
    assert.ok(built.success, new TextDecoder().decode(built.stderr));
    await use(binary);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
}

const noCc = !hasCc();

Deno.test({
  name: "C broadcast receiver: sockets over processes, one arrival each, on the bench's clock",
  ignore: noCc,
  fn: () =>
    withReceiver(async (binary) => {
      const floor = new Deno.Command(Deno.execPath(), { args: ["run", "-A", FLOOR], stdout: "piped" })
        .spawn();
      const output = lines(floor.stdout);
      const port = Number((await output.next()).value);
      const receivers = await startReceivers(port, 31, 3, "unused-by-the-floor", cReceiver(binary));
      try {
        assert.equal(receivers.held, 31);
        assert.equal(receivers.failure, undefined);
        const marker = "bench-announcer-c";
        const { arrivals } = await receivers.arm(marker);
        const t0 = wallNow();
        const announcer = await handshake(port, JSON.stringify({ type: "req", id: "c", method: "connect" }));
        announcer.send(
          JSON.stringify({ type: "req", id: "b", method: "broadcast", params: { instanceId: marker } }),
        );
        const { first, last, lost, bytes } = await arrivals;
        assert.ok(first <= last);
        assert.ok(first >= t0 - receivers.clockErrorMs, `first ${first} before the trigger ${t0}`);
        assert.equal(lost, 0);
        assert.ok(bytes! > marker.length);
        announcer.close();
        await new Promise((r) => announcer.onclose = r);
      } finally {
        await receivers.close();
        floor.kill("SIGTERM");
        await floor.status;
        await output.return(undefined);
      }
    }),
});

Deno.test({
  name: "C broadcast receiver: holds authenticated gateway sockets, and says why when the token is wrong",
  ignore: noCc,
  fn: () =>
    withReceiver(async (binary) => {
      const token = "receiver-c-token-0123456789";
      const gateway = createGateway({
        config: { gateway: { auth: { mode: "token", token } } },
        transport: denoTransport(),
        hostname: "127.0.0.1",
        port: 0,
      });
      const { port } = (await gateway.start())!;
      try {
        const receivers = await startReceivers(port, 5, 1, token, cReceiver(binary));
        assert.equal(receivers.held, 5);
        assert.equal(receivers.failure, undefined);
        // A webchat client's connect is announced to every socket in a `presence` event naming it.
        const marker = "bench-announcer-gateway";
        const { arrivals } = await receivers.arm(marker);
        const announcer = await handshake(port, connectFrame("webchat", token, marker));
        const { lost, bytes } = await arrivals;
        assert.equal(lost, 0);
        assert.ok(bytes! > marker.length);
        announcer.close();
        await new Promise((r) => announcer.onclose = r);
        await receivers.close();
        const refused = await startReceivers(port, 2, 1, "wrong-token", cReceiver(binary));
        assert.equal(refused.held, 0);
        assert.match(refused.failure!, /the gateway refused the connect: .*"ok":false/);
        await refused.close();
      } finally {
        await gateway.stop();
      }
    }),
});
