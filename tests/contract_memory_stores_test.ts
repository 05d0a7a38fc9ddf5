// The store contract suites against the in-process implementations; a network store (issue 16) runs
// the same suites from its own test file.
import assert from "node:assert/strict";
import { DocsDeviceStore } from "../lib/state/device-docs.ts";
import { jsonDocsOnFiles, MemoryJsonDocs } from "../lib/state/json-docs.ts";
import { nodeStoreFiles } from "../lib/state/node-store-files.ts";
import { MemoryDeviceStore } from "../lib/state/devices.ts";
import { MemoryExecApprovalStore } from "../lib/state/exec-approvals.ts";
import { MemoryIdempotencyStore } from "../lib/state/idempotency.ts";
import { MemoryNodeStore } from "../lib/state/nodes.ts";
import { MemoryPresenceStore } from "../lib/state/presence.ts";
import { MemoryRateLimitStore } from "../lib/state/rate-limit.ts";
import { MemoryStateVersionStore } from "../lib/state/state-version.ts";
import { completeStores, memoryStores } from "../lib/state/stores.ts";
import { MemorySessionStore } from "../lib/state/sessions.ts";
import { appendIfHeldContract } from "./contract/_transcripts.ts";
import { devicesContract } from "./contract/_devices.ts";
import { execApprovalsContract } from "./contract/_exec_approvals.ts";
import { jsonDocsContract } from "./contract/_json_docs.ts";
import { idempotencyCapContract, idempotencyContract } from "./contract/_idempotency.ts";
import { nodesContract } from "./contract/_nodes.ts";
import { presenceContract } from "./contract/_presence.ts";
import { replicasContract } from "./contract/_replicas.ts";
import { rateLimitContract } from "./contract/_rate_limit.ts";
import { stateVersionContract } from "./contract/_state_version.ts";
import { systemEventsContract } from "./contract/_system_events.ts";
import { MemorySystemEventStore } from "../lib/state/system-events.ts";
import { turnQueueContract, turnQueueMoveContract } from "./contract/_turn_queue.ts";
import { peersContract } from "./contract/_peers.ts";
import { responseSessionsContract } from "./contract/_response_sessions.ts";
import { MemoryPeerRegistry } from "../lib/state/peers.ts";
import { MemoryResponseSessionStore } from "../lib/state/response-sessions.ts";
import { MemoryTurnQueue } from "../lib/state/turn-queue.ts";

presenceContract("memory", () => Promise.resolve(new MemoryPresenceStore()));
devicesContract("memory", () => Promise.resolve(new MemoryDeviceStore()));
execApprovalsContract("memory", () => Promise.resolve(new MemoryExecApprovalStore()));
// The pairing document a gateway without a shared store keeps under its state dir.
devicesContract("json document", () => Promise.resolve(new DocsDeviceStore(new MemoryJsonDocs())));
idempotencyContract("memory", (clock) => Promise.resolve(new MemoryIdempotencyStore(clock.now)));
idempotencyCapContract(
  "memory",
  (clock, maxEntries) => Promise.resolve(new MemoryIdempotencyStore(clock.now, undefined, maxEntries)),
);
rateLimitContract("memory", (clock) => Promise.resolve(new MemoryRateLimitStore(clock.now)));
stateVersionContract("memory", () => Promise.resolve(new MemoryStateVersionStore()));
nodesContract("memory", (clock) => Promise.resolve(new MemoryNodeStore(clock.now)));
systemEventsContract("memory", () => Promise.resolve(new MemorySystemEventStore()));
turnQueueContract("memory", () => Promise.resolve(new MemoryTurnQueue()));
responseSessionsContract("memory", () => Promise.resolve(new MemoryResponseSessionStore()));
peersContract("memory", (clock) => Promise.resolve(new MemoryPeerRegistry(clock.now)));

// The bundle's defaults are the same implementations, wired to the clock they are given.
idempotencyContract(
  "memoryStores()",
  (clock) => Promise.resolve(memoryStores({ now: clock.now }).idempotency),
);
rateLimitContract("memoryStores()", (clock) => Promise.resolve(memoryStores({ now: clock.now }).rateLimits));
peersContract("memoryStores()", (clock) => Promise.resolve(memoryStores({ now: clock.now }).peers));

// Its guarded writes check the lease and the session entry in the same step as they write, as Redis does.
appendIfHeldContract("memoryStores()", (clock) => memoryStores({ now: clock.now }));
turnQueueMoveContract("memoryStores()", (clock) => Promise.resolve(memoryStores({ now: clock.now })));

Deno.test("completeStores: default transcripts and turn queue never guard with sessions or leases the bundle does not use", () => {
  const full = completeStores({});
  assert.ok(full.transcripts.appendIfHeld && full.turnQueue.moveIfHeld, "guarded over the default stores");
  for (const given of [{ sessions: new MemorySessionStore() }, { leases: memoryStores().leases }]) {
    const bundle = completeStores(given);
    assert.equal(bundle.transcripts.appendIfHeld, undefined, Object.keys(given)[0]);
    assert.equal(bundle.turnQueue.moveIfHeld, undefined, Object.keys(given)[0]);
  }
  const transcripts = memoryStores().transcripts;
  const own = completeStores({ transcripts });
  assert.equal(own.transcripts, transcripts);
  assert.equal(own.turnQueue.moveIfHeld, undefined, "the default queue would move into other transcripts");
});

// One in-process bundle shared by two gateways stands for one backend shared by two replicas.
replicasContract("memoryStores()", () => {
  const shared = memoryStores();
  return Promise.resolve([shared, shared]);
});
jsonDocsContract("memory", () => {
  const docs = new MemoryJsonDocs();
  return Promise.resolve([docs, docs]);
});
jsonDocsContract("memoryStores()", () => {
  const { docs } = memoryStores();
  return Promise.resolve([docs, docs]);
});
jsonDocsContract("files", async () => {
  const docs = jsonDocsOnFiles(await Deno.makeTempDir({ prefix: "openclaw-docs-" }), nodeStoreFiles);
  return [docs, docs];
});

Deno.test("device pairings in a JSON document: a device retrying the request already waiting rewrites nothing", async () => {
  const docs = new MemoryJsonDocs();
  let writes = 0;
  const write = docs.write.bind(docs);
  docs.write = (path, value) => (writes++, write(path, value));
  const now = Date.now();
  const store = new DocsDeviceStore(docs, () => now);
  const ask = {
    requestId: "r1",
    deviceId: "d1",
    publicKey: "pk",
    role: "operator",
    scopes: ["operator.read"],
    ts: now,
  };
  assert.equal((await store.request(ask)).created, true);
  assert.equal(writes, 1);
  for (let i = 0; i < 5; i++) {
    assert.equal((await store.request({ ...ask, requestId: `r${i + 2}` })).created, false);
  }
  assert.equal(writes, 1, "an identical ask that is already waiting is not written again");
  assert.equal(await store.takePending("nope", now), undefined);
  assert.equal(writes, 1, "taking a request that is not there writes nothing");
});
