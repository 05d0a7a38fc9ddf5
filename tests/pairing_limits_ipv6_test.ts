// A host is routinely handed a whole IPv6 /64: its addresses share one address's cap on pending pairing
// requests, so one host cannot fill the gateway-wide cap and lock every new device out.
import assert from "node:assert/strict";
import {
  MAX_PENDING_PAIRINGS,
  MAX_PENDING_PAIRINGS_PER_ADDRESS,
  MemoryDeviceStore,
} from "../lib/state/devices.ts";
import { GatewayError } from "../lib/errors.ts";

const ask = (n: number, remoteIp: string, ts = 1_000) => ({
  requestId: `r${n}`,
  deviceId: `d${n}`,
  publicKey: `k${n}`,
  role: "operator",
  scopes: ["operator.read"],
  remoteIp,
  ts,
});

Deno.test("one /64 cannot take the whole gateway's pairing capacity", async () => {
  const store = new MemoryDeviceStore();
  let n = 0;
  const hosts = MAX_PENDING_PAIRINGS / MAX_PENDING_PAIRINGS_PER_ADDRESS;
  for (let h = 0; h < hosts; h++) {
    for (let i = 0; i < MAX_PENDING_PAIRINGS_PER_ADDRESS; i++) {
      await store.request(ask(n++, `2001:db8:1:2::${(h + 1).toString(16)}`)).catch(() => {});
    }
  }
  // A legitimate device on another network.
  const outcome = await store.request(ask(9999, "192.168.1.20")).catch((e) => e);
  assert.ok(
    !(outcome instanceof GatewayError),
    `a device on another network was refused: ${outcome instanceof GatewayError ? outcome.message : ""}`,
  );
});
