// Channels are off by default, and the code of a channel kind loads only when a configured channel of that
// kind starts (issue 14 item 5; audit 14 gap 7): the runner's module graph holds no channel implementation,
// and the `channels.*` methods answer without one.
import assert from "node:assert/strict";
import { agentsModule, channelsModule, createGateway } from "../mod.ts";
import { pollUntil } from "./_helpers.ts";

const CHANNEL_CODE = /\/lib\/channels\/(telegram[a-z-]*|webhook|hmac|replay)\.ts$/;

/** The modules `entry` loads before anything it imports dynamically. */
async function staticGraph(entry: string): Promise<string[]> {
  const output = await new Deno.Command(Deno.execPath(), {
    args: ["info", "--json", new URL(entry, import.meta.url).pathname],
    stdout: "piped",
  }).output();
  const info = JSON.parse(new TextDecoder().decode(output.stdout)) as {
    roots: string[];
    modules: { specifier: string; dependencies?: { isDynamic?: boolean; code?: { specifier: string } }[] }[];
  };
  const bySpecifier = new Map(info.modules.map((m) => [m.specifier, m]));
  const loaded = new Set(info.roots);
  for (const specifier of loaded) {
    for (const dependency of bySpecifier.get(specifier)?.dependencies ?? []) {
      if (!dependency.isDynamic && dependency.code) loaded.add(dependency.code.specifier);
    }
  }
  return [...loaded];
}

Deno.test("the runner's gateway modules load no channel implementation until a channel is configured", async () => {
  const graph = await staticGraph("../runner/gateway/modules.ts");
  assert.ok(graph.some((s) => s.endsWith("/lib/channels/channels-module.ts")), "the graph was read");
  assert.deepEqual(graph.filter((s) => CHANNEL_CODE.test(s)), []);
});

Deno.test("without a channel the channels.* methods answer; a channel configured later starts", async () => {
  const agents = agentsModule();
  const gateway = createGateway({
    config: { gateway: { auth: { token: "s3cret" } } },
    modules: [agents, channelsModule({ agents })],
  });
  await gateway.start();
  try {
    const status = await gateway.call("channels.status", {}) as { channelOrder: string[] };
    assert.deepEqual(status.channelOrder, []);
    // Known kinds stay known before their code is loaded.
    const pairing = await gateway.call("channels.pairing.list", { channel: "telegram" }) as {
      accounts: unknown[];
    };
    assert.deepEqual(pairing.accounts, []);
    await assert.rejects(
      gateway.call("channels.pairing.list", { channel: "nope" }),
      /unknown pairing channel: nope/,
    );

    const webhook = { secret: "webhook-s3cret", outboundUrl: "https://replies.invalid/in" };
    assert.deepEqual(gateway.updateConfig({ ...gateway.config(), channels: { webhook } }), { ok: true });
    await pollUntil(
      async () => {
        const now = await gateway.call("channels.status", {}) as {
          channels: Record<string, { running: boolean } | undefined>;
        };
        return now.channels.webhook?.running === true;
      },
      5_000,
      "the webhook channel to start",
    );
  } finally {
    await gateway.stop();
  }
});
