// start() and stop() over async stores: a start that fails after listening leaves nothing served, and a
// stop() that arrives while start() is still awaiting a store wins (no gateway left running).
import assert from "node:assert/strict";
import { createGateway, memoryStores, memoryTransport, type PresenceStore } from "../mod.ts";
import { TOKEN } from "./_helpers.ts";

const config = { gateway: { auth: { mode: "token" as const, token: TOKEN } } };

Deno.test("a start that fails after listening (presence store down) closes the listener; a retry starts", async () => {
  const base = memoryStores();
  let down = true;
  const presence: PresenceStore = {
    upsert: (key, entry, options) =>
      down ? Promise.reject(new Error("presence store down")) : base.presence.upsert(key, entry, options),
    remove: (key) => base.presence.remove(key),
    list: (now) => base.presence.list(now),
  };
  const transport = memoryTransport();
  const gateway = createGateway({ config, stores: { presence }, transport });
  await assert.rejects(gateway.start(), /presence store down/);
  assert.equal(gateway.state.address(), undefined);
  await assert.rejects(transport.fetch("/health"), "nothing listens after a failed start");
  down = false;
  assert.ok(await gateway.start(), "the same gateway starts once the store is back");
  const health = await transport.fetch("/health");
  assert.equal(health.status, 200);
  await health.body?.cancel();
  await gateway.stop();
});

Deno.test("stop() during start() waits for it, then stops: nothing runs and no own presence row is left", async () => {
  const base = memoryStores();
  const slow = <T>(run: () => Promise<T>) => new Promise<void>((r) => setTimeout(r, 30)).then(run);
  const presence: PresenceStore = {
    upsert: (key, entry, options) => slow(() => base.presence.upsert(key, entry, options)),
    remove: (key) => base.presence.remove(key),
    list: (now) => base.presence.list(now),
  };
  const transport = memoryTransport();
  const gateway = createGateway({ config, stores: { presence }, transport });
  const started = gateway.start();
  await new Promise((r) => setTimeout(r, 5));
  await gateway.stop();
  await started;
  assert.equal(gateway.state.address(), undefined);
  assert.deepEqual(await base.presence.list(Date.now()), []);
  await assert.rejects(transport.fetch("/health"));
});

Deno.test("health answers its snapshot when the state version store fails; only the broadcast is skipped", async () => {
  const base = memoryStores();
  const stateVersions = {
    current: () => base.stateVersions.current(),
    bump: () => Promise.reject(new Error("state store down")),
  };
  const gateway = createGateway({ config, stores: { stateVersions } });
  await gateway.start();
  try {
    const snapshot = await gateway.call("health") as { ok?: boolean };
    assert.equal(snapshot.ok, true);
  } finally {
    await gateway.stop();
  }
});
