// Scopes of clients that prove only the shared secret and no device identity, as the reference grants
// them (tests/fixtures/reference-device-less-scopes.json, recorded from openclaw 2026.9.6): the requested
// scopes are cleared, except for the local backend (`gateway-client`/`backend`) and the CLI (`cli`/`cli`)
// talking straight to loopback with no browser Origin. Each recorded connect is replayed here and must get
// the same `hello-ok.auth.scopes` and the same answer to its `sessions.list`. The built-in Control UI,
// a browser, gets its scopes the reference UI's way: through a device key it pairs and keeps.
import assert from "node:assert/strict";
import { haveChromium, launchChromium } from "./_browser.ts";
import { join } from "node:path";
import { agentsModule } from "../lib/agents/mod.ts";
import type { Gateway } from "../lib/gateway.ts";
import { controlUiModule } from "../lib/ui/mod.ts";
import { createGateway, memoryStores } from "../mod.ts";
import { denoTransport } from "../deno.ts";
import { connect, connectParams, startGateway, tempDir, TOKEN } from "./_helpers.ts";
import { assertMatchesSchema } from "./_protocol_schema.ts";
import { freePort, runnerEnv, spawnRunner } from "./_runner_process.ts";

interface Recorded {
  dir: "in" | "out";
  frame: {
    method?: string;
    params?: Record<string, unknown>;
    ok?: boolean;
    payload?: { auth: { scopes: string[] } };
    error?: Record<string, unknown>;
  };
}

interface ReferenceCase {
  connect: Record<string, unknown>;
  scopes: string[];
  sessionsList: { ok: boolean; error?: Record<string, unknown> };
}

const FIXTURE = new URL("./fixtures/reference-device-less-scopes.json", import.meta.url);

/** Each recorded connect with the scopes it was granted and how its `sessions.list` was answered. */
async function referenceCases(): Promise<ReferenceCase[]> {
  const frames: Recorded[] = JSON.parse(await Deno.readTextFile(FIXTURE));
  const cases: ReferenceCase[] = [];
  for (let i = 0; i < frames.length; i++) {
    const sent = frames[i];
    if (sent.dir !== "out" || sent.frame.method !== "connect") continue;
    const hello = frames[i + 1].frame;
    const list = frames[i + 3].frame;
    assert.equal(frames[i + 2].frame.method, "sessions.list");
    cases.push({
      connect: { ...sent.frame.params, auth: { token: TOKEN } },
      scopes: hello.payload!.auth.scopes,
      sessionsList: { ok: list.ok!, ...(list.error ? { error: list.error } : {}) },
    });
  }
  return cases;
}

async function sessionsGateway(config?: Record<string, unknown>): Promise<Gateway> {
  return await startGateway({ modules: [agentsModule()], ...(config ? { config } : {}) });
}

/** Connects, checks hello-ok against the schema, and asks for `sessions.list`. */
async function connectAndList(
  gateway: Gateway,
  params: Record<string, unknown>,
  socketOptions: { remoteAddress?: string; headers?: HeadersInit } = {},
) {
  const { socket, response } = await connect(gateway, params, socketOptions);
  assert.equal(response.ok, true, JSON.stringify(response.error));
  assertMatchesSchema("HelloOk", response.payload);
  const scopes = (response.payload as { auth: { scopes: string[] } }).auth.scopes;
  socket.send({ type: "req", id: "r1", method: "sessions.list", params: {} });
  const list = await socket.waitFor((f) => f.type === "res" && f.id === "r1");
  assertMatchesSchema("ResponseFrame", list);
  socket.close();
  return { scopes, list };
}

Deno.test("every recorded device-less connect gets the reference's scopes and sessions.list answer", async () => {
  const cases = await referenceCases();
  assert.deepEqual(
    cases.map((c) =>
      `${(c.connect.client as { id: string }).id}/${(c.connect.client as { mode: string }).mode}`
    ),
    ["test/test", "cli/probe", "cli/cli", "gateway-client/backend", "gateway-client/ui"],
  );
  const gateway = await sessionsGateway();
  try {
    for (const recorded of cases) {
      const { scopes, list } = await connectAndList(gateway, recorded.connect);
      const who = JSON.stringify(recorded.connect.client);
      assert.deepEqual(scopes, recorded.scopes, who);
      assert.equal(list.ok, recorded.sessionsList.ok, who);
      if (recorded.sessionsList.error) assert.deepEqual(list.error, recorded.sessionsList.error, who);
    }
  } finally {
    await gateway.stop();
  }
});

const BACKEND = { id: "gateway-client", version: "0.0.1", platform: "linux", mode: "backend" };
const CLI = { id: "cli", version: "dev", platform: "linux", mode: "cli" };

Deno.test("the two exceptions hold only on a direct loopback socket with no browser Origin", async () => {
  // A same-host proxy is trusted, so a forwarded socket is admitted and attributed to its client.
  const gateway = await sessionsGateway({
    gateway: { auth: { mode: "token", token: TOKEN }, trustedProxies: ["127.0.0.1"] },
  });
  try {
    for (const client of [BACKEND, CLI]) {
      const params = connectParams({ client });
      const who = `${client.id}/${client.mode}`;
      assert.deepEqual(
        (await connectAndList(gateway, params)).scopes,
        ["operator.read", "operator.write"],
        who,
      );
      const elsewhere: { remoteAddress?: string; headers?: Record<string, string> }[] = [
        { remoteAddress: "192.0.2.10" },
        { headers: { origin: "http://127.0.0.1:18789" } },
        { headers: { "x-forwarded-for": "198.51.100.4" } },
      ];
      for (const options of elsewhere) {
        const { scopes, list } = await connectAndList(gateway, params, options);
        assert.deepEqual(scopes, [], `${who} ${JSON.stringify(options)}`);
        assert.equal((list.error as { message: string }).message, "missing scope: operator.read");
      }
    }
  } finally {
    await gateway.stop();
  }
});

Deno.test("a password clears a device-less client's scopes as a token does; the backend keeps its own", async () => {
  const gateway = await sessionsGateway({
    gateway: { auth: { mode: "password", password: "pw-0123456789" } },
  });
  try {
    const auth = { password: "pw-0123456789" };
    const probe = connectParams({ auth, client: { ...CLI, mode: "probe" } });
    assert.deepEqual((await connectAndList(gateway, probe)).scopes, []);
    const backend = connectParams({ auth, client: BACKEND, scopes: ["operator.admin"] });
    const { scopes, list } = await connectAndList(gateway, backend);
    assert.deepEqual(scopes, ["operator.admin"]);
    assert.equal(list.ok, true);
  } finally {
    await gateway.stop();
  }
});

Deno.test({
  name: "the built-in Control UI pairs a device key it keeps; a bare token from the same page gets no scopes",
  ignore: !haveChromium,
  sanitizeOps: false,
  sanitizeResources: false,
  async fn() {
    const stores = memoryStores();
    const gateway = createGateway({
      config: { gateway: { auth: { mode: "token", token: TOKEN } } },
      transport: denoTransport(),
      hostname: "127.0.0.1",
      port: 0,
      stores,
      modules: [controlUiModule()],
    });
    const { port } = (await gateway.start())!;
    const browser = await launchChromium();
    try {
      const page = await browser.newPage();
      await page.goto(`http://127.0.0.1:${port}/#token=${TOKEN}`);
      await page.waitForSelector('#status[data-state="connected"]');
      assert.equal(await page.textContent("#status"), "connected");
      const [device] = await stores.devices.list();
      assert.equal(device.role, "operator");
      assert.deepEqual([...device.scopes].sort(), ["operator.admin", "operator.read", "operator.write"]);

      await page.reload();
      await page.waitForSelector('#status[data-state="connected"]');
      assert.deepEqual(
        (await stores.devices.list()).map((d) => d.deviceId),
        [device.deviceId],
        "the key is kept",
      );

      const bare = await page.evaluate(
        ({ url, token }) =>
          new Promise<unknown>((resolve) => {
            const ws = new WebSocket(url);
            ws.onmessage = (event) => {
              const frame = JSON.parse(event.data);
              if (frame.event === "connect.challenge") {
                ws.send(JSON.stringify({
                  type: "req",
                  id: "c",
                  method: "connect",
                  params: {
                    minProtocol: 4,
                    maxProtocol: 4,
                    client: { id: "gateway-client", version: "1", platform: "web", mode: "backend" },
                    role: "operator",
                    scopes: ["operator.read"],
                    auth: { token },
                  },
                }));
              } else if (frame.id === "c") resolve(frame.payload.auth.scopes), ws.close();
            };
          }),
        { url: `ws://127.0.0.1:${port}/`, token: TOKEN },
      );
      assert.deepEqual(bare, [], "a browser (it sends Origin) is never the local backend");
    } finally {
      await browser.close();
      await gateway.stop();
    }
  },
});

// The reference CLI, where installed as bench/README.md describes (tests/compat_reference_cli_test.ts).
const REFERENCE_BIN = join(Deno.env.get("OPENCLAW_REFERENCE_DIR") ?? "/tmp/refgw", "node_modules", ".bin");
const haveReferenceCli = await Promise.all(
  ["openclaw", "node"].map((name) => Deno.stat(join(REFERENCE_BIN, name)).then((s) => s.isFile, () => false)),
).then((found) => found.every(Boolean));
if (!haveReferenceCli) {
  console.warn(
    `skipping the reference-probe case: no openclaw/node in ${REFERENCE_BIN} (see bench/README.md)`,
  );
}

Deno.test({
  name: "the reference `openclaw gateway probe` reports this gateway as it reports the reference",
  ignore: !haveReferenceCli,
  async fn() {
    const home = await tempDir();
    const refHome = await tempDir();
    const port = freePort();
    const gateway = spawnRunner(["--dev", "gateway", "--port", String(port)], runnerEnv(home));
    try {
      const token = (await gateway.waitFor(/Gateway token .*: [0-9a-f]+/, 30_000)).split(": ").at(-1)!;
      await gateway.waitFor(/gateway listening/, 30_000);
      const url = `ws://127.0.0.1:${port}`;
      const output = await new Deno.Command(join(REFERENCE_BIN, "openclaw"), {
        args: ["gateway", "probe", "--url", url, "--token", token],
        env: { HOME: refHome, PATH: `${REFERENCE_BIN}:${Deno.env.get("PATH")}`, NO_COLOR: "1" },
        clearEnv: true,
        stdout: "piped",
        stderr: "piped",
      }).output();
      const text = new TextDecoder().decode(output.stdout);
      // The lines the reference prints of itself (shared/spec/captures/cli-outputs.txt).
      assert.match(text, /^Capability: connected-no-operator-scope$/m, text);
      assert.match(
        text,
        new RegExp(
          `^URL \\(explicit\\) ${url}\\n {2}Connect: ok \\(\\d+ms\\) · Capability: connect-only · Read probe: limited - missing scope: operator\\.read$`,
          "m",
        ),
        text,
      );
    } finally {
      assert.equal(await gateway.stop(), 0);
    }
  },
});
