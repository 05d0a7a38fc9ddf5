// A holder of the shared secret who connects with a fresh device key each time cannot pile up pairing
// requests: past the per-address cap a new device is refused with a retryable error, while a device
// already waiting still reaches its own request.
import assert from "node:assert/strict";
import { MAX_PENDING_PAIRINGS_PER_ADDRESS } from "../lib/state/devices.ts";
import { connectDevice, makeDevice } from "./_device_identity.ts";
import { startGateway } from "./_helpers.ts";
import { assertMatchesSchema } from "./_protocol_schema.ts";

const LAN = "192.168.1.60";

Deno.test("a flood of fresh device keys from one address is refused past the cap; a waiting device still gets its request", async () => {
  const gateway = await startGateway();
  const first = await makeDevice();
  const ask = async (device = first) => {
    const { response, socket } = await connectDevice(gateway, device, { remoteAddress: LAN });
    await socket.closed;
    return response.error as { code: string; message: string; details: Record<string, unknown> };
  };
  const firstRequest = (await ask()).details.requestId;
  for (let i = 1; i < MAX_PENDING_PAIRINGS_PER_ADDRESS; i++) {
    assert.equal((await ask(await makeDevice())).code, "NOT_PAIRED");
  }
  const refused = await ask(await makeDevice());
  assertMatchesSchema("ErrorShape", refused);
  assert.equal(refused.code, "UNAVAILABLE");
  assert.equal(refused.details.code, "PAIRING_REQUESTS_LIMITED");
  assert.match(refused.message, /too many pending device pairing requests from this client address/);
  const again = await ask();
  assert.equal(again.code, "NOT_PAIRED", "a device already waiting is not locked out by the flood");
  assert.equal(again.details.requestId, firstRequest);
  await gateway.stop();
});
