// Hardening II (issue 13): secrets by value (4), idempotency across callers (10), presence ownership (11),
// state dir modes (13) and one session key validator (14).
import assert from "node:assert/strict";
import { client, connectParams, startGateway } from "./_helpers.ts";

const tick = () => new Promise((r) => setTimeout(r, 0));

// ---- 11. presence rows belong to the connection (or device) that wrote them -------------------------

Deno.test("presence: a client copying another's instanceId neither replaces nor removes its row", async () => {
  const gateway = await startGateway();
  const ui = (id: string) =>
    connectParams({ client: { id, version: "1", platform: "linux", mode: "ui", instanceId: "shared-1" } });
  await client(gateway, ui("openclaw-control-ui"));
  const attacker = await client(gateway, ui("openclaw-macos"));
  const rows = () => gateway.state.presence().filter((r) => r.instanceId === "shared-1");
  assert.equal(rows().length, 2, "each connection keeps its own row");
  attacker.socket.close();
  await attacker.socket.closed;
  await tick();
  assert.deepEqual(rows().map((r) => r.host), ["openclaw-control-ui"], "the victim's row survives");
  await gateway.stop();
});
