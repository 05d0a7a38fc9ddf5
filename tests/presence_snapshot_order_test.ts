// The hello-ok presence snapshot must read the version before the rows: read after them, a change that
// lands between the two (another replica's connect) pairs rows without it with the version that announces
// it; the event
// of that version is then ignored as "not newer", and every hello-ok of the next second serves the mismatch
// (its clients never hear that version again, so they miss the row until the next presence change).
import assert from "node:assert/strict";
import { memoryStores } from "../lib/state/stores.ts";
import { helloSnapshot, startGateway } from "./_helpers.ts";

Deno.test("presence: hello-ok never pairs a presence version with rows older than it", async () => {
  const clock = 1_700_000_000_000;
  const stores = memoryStores();
  const list = stores.presence.list.bind(stores.presence);
  const current = stores.stateVersions.current.bind(stores.stateVersions);
  let interleave: (() => Promise<void>) | undefined;
  // Another replica's connect runs between this replica's presence list() and versions current().
  stores.stateVersions.current = async () => {
    const change = interleave;
    interleave = undefined;
    await change?.();
    return current();
  };
  const gateway = await startGateway({ stores, now: () => clock });
  const hello = () => helloSnapshot(gateway);
  try {
    const self = (await list(clock))[0];
    interleave = async () => {
      await stores.presence.upsert("conn:other", { ...self, host: "elsewhere", instanceId: "other" });
      const { presence: version } = await stores.stateVersions.bump("presence");
      stores.bus.publish({
        event: "presence",
        payload: { presence: await list(clock) },
        stateVersion: { presence: version },
      });
    };
    for (const attempt of [1, 2]) {
      const snap = await hello();
      assert.ok(
        snap.presence.some((r) => r.instanceId === "other"),
        `hello-ok #${attempt}: presence version ${snap.stateVersion.presence} without the row it added`,
      );
    }
  } finally {
    await gateway.stop();
  }
});
