// Review of the pending-request caps: link-local IPv6 clients count one by one, a pairing a full gateway
// pushed out is announced as expired (no operator rejected it), and an exec approval request it pushed out
// ends at once for its caller, announced as an expiry would be.
import assert from "node:assert/strict";
import type { BuiltInEvent } from "../lib/methods/module-host.ts";
import { announcePairingRequest } from "../lib/methods/devices.ts";
import { addressBucket } from "../lib/net/address-bucket.ts";
import type { PendingPairing } from "../lib/state/devices.ts";
import {
  type ExecApprovalRecord,
  MAX_PENDING_APPROVALS,
  MAX_PENDING_APPROVALS_PER_ADDRESS,
} from "../lib/state/exec-approvals.ts";
import { memoryStores } from "../lib/state/stores.ts";
import { connect, connectParams, startGateway } from "./_helpers.ts";

Deno.test("link-local IPv6 clients count per address; other IPv6 addresses by their /64", () => {
  assert.notEqual(
    addressBucket("fe80::1"),
    addressBucket("fe80::2"),
    "every host on a link shares fe80::/64",
  );
  assert.notEqual(addressBucket("fe80::1%eth0"), addressBucket("febf::1"));
  assert.equal(addressBucket("2001:db8:1:2::1"), addressBucket("2001:db8:1:2::ffff"));
});

Deno.test("a pairing request a full gateway pushed out resolves as expired, a superseded one as rejected", () => {
  const events: BuiltInEvent[] = [];
  const pairing = (requestId: string, deviceId: string) => ({ requestId, deviceId, ts: 1 }) as PendingPairing;
  announcePairingRequest({ publish: (event) => events.push(event) }, {
    request: pairing("new", "d-new"),
    created: true,
    superseded: [pairing("own", "d-new")],
    evicted: [pairing("old", "d-old")],
  }, 5);
  const resolved = events.filter((e) => e.event === "device.pair.resolved").map((e) => e.payload);
  assert.deepEqual(resolved, [
    { requestId: "own", deviceId: "d-new", decision: "rejected", ts: 5 },
    { requestId: "old", deviceId: "d-old", decision: "expired", ts: 5 },
  ]);
});

Deno.test("an exec approval request a full gateway pushed out is answered at once and announced", async () => {
  const now = Date.now();
  const stores = memoryStores();
  // The gateway is full but one: the requester's address (loopback) holds the most, with the oldest-expiring
  // request still to come (its caller's).
  const seed = (id: string, requestedFrom: string) =>
    stores.execApprovals.create(
      {
        id,
        request: { command: "true" },
        createdAtMs: now,
        expiresAtMs: now + 3_600_000,
        requestedByConnId: "elsewhere",
        requestedFrom,
      } satisfies ExecApprovalRecord,
      now,
    );
  for (let i = 1; i < MAX_PENDING_APPROVALS_PER_ADDRESS; i++) await seed(`lo${i}`, "127.0.0.1");
  for (let i = 0; i < MAX_PENDING_APPROVALS - MAX_PENDING_APPROVALS_PER_ADDRESS; i++) {
    await seed(`n${i}`, `10.0.${Math.floor(i / (MAX_PENDING_APPROVALS_PER_ADDRESS - 1))}.1`);
  }
  const gateway = await startGateway({ stores });
  const session = async (remoteAddress: string, scopes: string[]) => {
    const { socket, response } = await connect(gateway, connectParams({ scopes }), { remoteAddress });
    assert.equal(response.ok, true, JSON.stringify(response.error));
    let ids = 0;
    const request = (method: string, params: Record<string, unknown>) => {
      const id = `q${++ids}`;
      socket.send({ type: "req", id, method, params });
      return socket.waitFor((f) => f.type === "res" && f.id === id);
    };
    return { socket, request };
  };
  const admin = await session("127.0.0.1", ["operator.admin"]);
  const victim = await session("127.0.0.1", ["operator.approvals"]);
  // Another network, still local (a remote client without a device has no scopes): ::1 counts by ::/64.
  const newcomer = await session("::1", ["operator.approvals"]);
  try {
    const waiting = victim.request("exec.approval.request", {
      id: "victim",
      command: "ls",
      timeoutMs: 600_000,
      requireDeliveryRoute: false,
    });
    await admin.socket.waitFor((f) => f.type === "event" && f.event === "exec.approval.requested");
    const started = Date.now();
    const asked = newcomer.request("exec.approval.request", {
      id: "new",
      command: "ls",
      twoPhase: true,
      requireDeliveryRoute: false,
    });
    const answer = await waiting;
    assert.equal(answer.ok, true);
    assert.equal((answer.payload as { decision: unknown }).decision, null, "it ended unanswered");
    assert.ok(Date.now() - started < 5_000, "at once, not at its timeout");
    const resolved = await admin.socket.waitFor((f) =>
      f.type === "event" && f.event === "exec.approval.resolved" &&
      (f.payload as { id: string }).id === "victim"
    );
    assert.equal((resolved.payload as { decision: unknown }).decision, null);
    assert.equal((await asked).ok, true);
  } finally {
    for (const s of [admin, victim, newcomer]) s.socket.close();
    await gateway.stop();
  }
});
