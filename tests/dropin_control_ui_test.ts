// OpenClaw's own Control UI against this gateway: `gateway.controlUi.root` serves another UI build
// same-origin (files, client routes, base path, runtime config, no way out of the root), the methods
// that UI calls answer in the reference's shapes, and the reference package's real UI, driven in headless
// Chromium, chats and opens its main pages without one unknown method or page error.
import assert from "node:assert/strict";
import { launchChromium } from "./_browser.ts";
import { referenceUi, referenceUiGateway, referenceUiMissing } from "./_reference_ui.ts";
import { join } from "node:path";
import type { Page } from "playwright-core";
import { agentsModule } from "../lib/agents/mod.ts";
import { nodesModule } from "../lib/nodes/mod.ts";
import { memoryStores } from "../lib/state/stores.ts";
import { controlUiModule } from "../lib/ui/mod.ts";
import { cronModule } from "../lib/cron/mod.ts";
import { nodeUiRootFiles } from "../lib/ui/root-files.ts";
import { readNodeHostInfo } from "../lib/methods/node-host-info.ts";
import { denoUiRootFiles } from "../runner/gateway/deno-ui-files.ts";
import { readDenoHostInfo } from "../runner/gateway/deno-host-info.ts";
import type { GatewayConfig } from "../mod.ts";
import { client, connectParams, startGateway, TOKEN } from "./_helpers.ts";
import { assertMatchesSchema, schemaScope } from "./_protocol_schema.ts";
import { methodOfCall, REFERENCE_UI_CALLS } from "./_reference_ui_calls.ts";

const INDEX = `<!doctype html>
<html lang="en">
  <head>
    <link rel="icon" href="./favicon.svg" />
    <script>globalThis.inline = 1;</script>
    <script type="module" crossorigin src="./assets/index-abc123.js"></script>
  </head>
  <body><openclaw-app></openclaw-app></body>
</html>
`;

/** A fake UI build in a temporary directory, with a secret next to it and a symlink pointing at it. */
async function uiBuild(): Promise<{ dir: string; root: string }> {
  const dir = await Deno.makeTempDir({ prefix: "openclaw-ui-root-" });
  const root = join(dir, "control-ui");
  await Deno.mkdir(join(root, "assets"), { recursive: true });
  await Deno.writeTextFile(join(root, "index.html"), INDEX);
  await Deno.writeTextFile(join(root, "assets", "index-abc123.js"), "export const app = 1;\n");
  await Deno.writeTextFile(join(root, "assets", "style-1.css"), "body{}\n");
  await Deno.writeTextFile(join(root, "favicon.svg"), "<svg/>");
  await Deno.writeTextFile(join(root, "manifest.webmanifest"), "{}");
  await Deno.writeTextFile(join(dir, "secret.txt"), "top secret");
  await Deno.symlink(join(dir, "secret.txt"), join(root, "leak.txt"));
  await Deno.symlink(join(root, "favicon.svg"), join(root, "inside.svg"));
  return { dir, root };
}

async function rootGateway(controlUi: Record<string, unknown>, rootFiles = nodeUiRootFiles) {
  const config: GatewayConfig = { gateway: { auth: { mode: "token", token: TOKEN }, controlUi } };
  return await startGateway({ config, modules: [controlUiModule({ rootFiles })] });
}

Deno.test("controlUi.root: files with their types, client routes get index.html with the base path", async () => {
  const { dir, root } = await uiBuild();
  const gateway = await rootGateway({ root, basePath: "/openclaw" });
  const get = (path: string) => gateway.fetch(new Request(`http://127.0.0.1${path}`));
  try {
    const index = await get("/openclaw/");
    const html = await index.text();
    assert.equal(index.status, 200);
    assert.equal(index.headers.get("content-type"), "text/html; charset=utf-8");
    assert.match(html, /<html data-openclaw-control-ui-base-path="\/openclaw" lang="en">/);
    assert.match(html, /src="\/openclaw\/assets\/index-abc123\.js"/);
    assert.match(html, /href="\/openclaw\/favicon\.svg"/);
    const csp = index.headers.get("content-security-policy")!;
    const inline = "globalThis.inline = 1;";
    const digest = await crypto.subtle.digest("SHA-256", new TextEncoder().encode(inline));
    const hash = `sha256-${btoa(String.fromCharCode(...new Uint8Array(digest)))}`;
    assert.ok(csp.includes(`'${hash}'`), `the inline script is admitted by hash: ${csp}`);
    assert.doesNotMatch(csp, /script-src[^;]*unsafe-inline/);

    for (const route of ["/openclaw/chat", "/openclaw/agents/main/sessions", "/openclaw/index.html"]) {
      const page = await get(route);
      assert.equal(page.status, 200, route);
      assert.match(await page.text(), /data-openclaw-control-ui-base-path/, route);
    }
    const expected: [string, string, string][] = [
      [
        "/openclaw/assets/index-abc123.js",
        "text/javascript; charset=utf-8",
        "public, max-age=31536000, immutable",
      ],
      ["/openclaw/assets/style-1.css", "text/css; charset=utf-8", "public, max-age=31536000, immutable"],
      ["/openclaw/favicon.svg", "image/svg+xml", "no-cache"],
      ["/openclaw/manifest.webmanifest", "application/manifest+json; charset=utf-8", "no-cache"],
      ["/openclaw/inside.svg", "image/svg+xml", "no-cache"],
    ];
    for (const [path, type, cache] of expected) {
      const file = await get(path);
      await file.body?.cancel();
      assert.equal(file.status, 200, path);
      assert.equal(file.headers.get("content-type"), type, path);
      assert.equal(file.headers.get("cache-control"), cache, path);
      assert.equal(file.headers.get("x-content-type-options"), "nosniff", path);
    }
    const head = await gateway.fetch(
      new Request("http://127.0.0.1/openclaw/favicon.svg", { method: "HEAD" }),
    );
    assert.equal(head.status, 200);
    assert.equal(await head.text(), "");
    for (const missing of ["/openclaw/assets/gone.js", "/openclaw/nope.png"]) {
      const file = await get(missing);
      await file.body?.cancel();
      assert.equal(file.status, 404, missing);
    }
  } finally {
    await gateway.stop();
    await Deno.remove(dir, { recursive: true });
  }
});

for (
  const [name, files] of [["node:fs", nodeUiRootFiles], ["Deno (the runner's)", denoUiRootFiles]] as const
) {
  Deno.test(`controlUi.root on ${name}: traversal, encoded traversal and symlinks out of the root are refused`, async () => {
    const { dir, root } = await uiBuild();
    const gateway = await rootGateway({ root }, files);
    try {
      for (
        const path of [
          "/leak.txt",
          "/%2e%2e/secret.txt",
          "/assets/%2e%2e/%2e%2e/secret.txt",
          "/..%2fsecret.txt",
          "/a%00.js",
          "/%E0%A4%A",
        ]
      ) {
        const response = await gateway.fetch(new Request(`http://127.0.0.1${path}`));
        const body = await response.text();
        assert.equal(response.status, 404, path);
        assert.doesNotMatch(body, /top secret/, path);
      }
    } finally {
      await gateway.stop();
      await Deno.remove(dir, { recursive: true });
    }
  });
}

Deno.test("controlUi.root: runtime config behind gateway auth with the reference's fields; default stays built-in", async () => {
  const { dir, root } = await uiBuild();
  const gateway = await rootGateway({ root });
  const builtIn = await rootGateway({});
  try {
    const anonymous = await gateway.fetch(new Request("http://127.0.0.1/control-ui-config.json"));
    await anonymous.body?.cancel();
    assert.equal(anonymous.status, 401);
    const config = await gateway.fetch(
      new Request("http://127.0.0.1/control-ui-config.json", {
        headers: { Authorization: `Bearer ${TOKEN}` },
      }),
    );
    assert.equal(config.status, 200);
    const body = await config.json();
    assert.equal(body.assistantName, "OpenClaw");
    assert.equal(typeof body.serverVersion, "string");
    assert.equal(body.terminalEnabled, false);
    assert.equal(body.cliAgentsEnabled, false);
    assert.deepEqual(body.pluginFrameGrants, []);

    const page = await builtIn.fetch(new Request("http://127.0.0.1/"));
    assert.match(await page.text(), /<title>OpenClaw Gateway<\/title>/);
    const stray = await builtIn.fetch(new Request("http://127.0.0.1/chat"));
    await stray.body?.cancel();
    assert.equal(stray.status, 404, "without a root, only the built-in page's paths exist");
  } finally {
    await gateway.stop();
    await builtIn.stop();
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("controlUi.root: a root that does not exist answers 503 naming it", async () => {
  const gateway = await rootGateway({ root: "/nonexistent/control-ui" });
  try {
    const response = await gateway.fetch(new Request("http://127.0.0.1/"));
    assert.equal(response.status, 503);
    assert.match(await response.text(), /\/nonexistent\/control-ui/);
  } finally {
    await gateway.stop();
  }
});

Deno.test("controlUi.root without file access (the core alone) answers 503 naming the missing option", async () => {
  const { dir, root } = await uiBuild();
  const config: GatewayConfig = { gateway: { auth: { mode: "token", token: TOKEN }, controlUi: { root } } };
  const gateway = await startGateway({ config, modules: [controlUiModule()] });
  try {
    const response = await gateway.fetch(new Request("http://127.0.0.1/"));
    assert.equal(response.status, 503);
    assert.match(await response.text(), /controlUiModule\(\{ rootFiles \}\)/);
  } finally {
    await gateway.stop();
    await Deno.remove(dir, { recursive: true });
  }
});

const UI_CALLS = REFERENCE_UI_CALLS;
const methodOf = methodOfCall;

/** Result definitions protocol.schema.json has for these methods (the others it leaves open). */
const RESULT_SCHEMAS: Record<string, string> = {
  "agent.identity.get": "AgentIdentityResult",
  "agents.list": "AgentsListResult",
  "environments.list": "EnvironmentsListResult",
  "progressCard.get": "ProgressCardGetResult",
  "question.list": "QuestionListResult",
  "sessions.branches.list": "SessionsBranchesListResult",
  "sessions.companion.state": "SessionsCompanionStateResult",
  "sessions.observer.visibility": "SessionsObserverVisibilityResult",
  "system.info": "SystemInfoResult",
  "talk.catalog": "TalkCatalogResult",
  "tasks.list": "TasksListResult",
  "update.status": "UpdateStatusResult",
  "plugins.list": "PluginsListResult",
};

const PARAM_SCHEMAS: Record<string, string> = {
  "agent.identity.get": "AgentIdentityParams",
  "chat.metadata": "ChatMetadataParams",
  "cron.list": "CronListParams",
  "cron.runs": "CronRunsParams",
  "progressCard.get": "ProgressCardGetParams",
  "sessions.branches.list": "SessionsBranchesListParams",
  "sessions.companion.state": "SessionsCompanionStateParams",
  "sessions.describe": "SessionsDescribeParams",
  "sessions.observer.visibility": "SessionsObserverVisibilityParams",
  "tasks.list": "TasksListParams",
};

async function uiMethodsGateway(
  agents: Record<string, unknown> = {},
  hostInfo = readNodeHostInfo,
  stores = memoryStores(),
) {
  const config: GatewayConfig = { gateway: { auth: { mode: "token", token: TOKEN } }, agents };
  return await startGateway({
    config,
    stores,
    modules: [agentsModule(), nodesModule(), cronModule(), controlUiModule({ hostInfo })],
  });
}

Deno.test("ui methods: each answers in the reference's shape, advertised in hello-ok, at the schema's scope", async () => {
  const gateway = await uiMethodsGateway();
  try {
    const admin = await client(gateway, connectParams({ scopes: ["operator.admin"] }));
    const advertised = (admin.hello.features as { methods: string[] }).methods;
    for (const [key, params] of Object.entries(UI_CALLS)) {
      const method = methodOf(key);
      assert.ok(advertised.includes(method), `${method} is in hello-ok.features.methods`);
      if (PARAM_SCHEMAS[method]) assertMatchesSchema(PARAM_SCHEMAS[method], params);
      const response = await admin.request(method, params);
      assert.equal(response.ok, true, `${method}: ${JSON.stringify(response.error)}`);
      if (RESULT_SCHEMAS[method]) assertMatchesSchema(RESULT_SCHEMAS[method], response.payload);
    }
    for (const [key, params] of Object.entries(UI_CALLS)) {
      const method = methodOf(key);
      const scope = schemaScope(method) ?? "operator.read";
      const holder = await client(gateway, connectParams({ scopes: [scope] }));
      const allowed = await holder.request(method, params);
      assert.equal(allowed.ok, true, `${method} with ${scope}: ${JSON.stringify(allowed.error)}`);
      holder.socket.close();
      if (scope === "operator.read") continue;
      const reader = await client(gateway, connectParams({ scopes: ["operator.read"] }));
      const refused = await reader.request(method, params);
      assert.equal(refused.ok, false, `${method} needs ${scope}`);
      reader.socket.close();
    }
    admin.socket.close();
  } finally {
    await gateway.stop();
  }
});

Deno.test("system.info reports the host it is given; without a host reader there is none", async () => {
  const host = {
    hostname: "box",
    platform: "linux",
    release: "6.1",
    arch: "x64",
    osLabel: "Linux 6.1",
    cpuCount: 2,
    loadAverage: [0.5, 0.25, 0.125] as [number, number, number],
    memoryTotalBytes: 1024,
    memoryFreeBytes: 512,
    pid: 42,
    nodeVersion: "22.0.0",
    uptimeMs: 1000,
  };
  const gateway = await uiMethodsGateway({}, () => host);
  const bare = await startGateway({ modules: [controlUiModule()] });
  try {
    const c = await client(gateway);
    assert.deepEqual((await c.request("system.info", {})).payload, { machineName: "box", ...host });
    c.socket.close();
    const b = await client(bare);
    assert.ok(!(b.hello.features as { methods: string[] }).methods.includes("system.info"));
    assert.ok((b.hello.features as { methods: string[] }).methods.includes("tasks.list"));
    assert.ok(
      !(b.hello.features as { methods: string[] }).methods.includes("cron.list"),
      "cron is its own module",
    );
    b.socket.close();
  } finally {
    await gateway.stop();
    await bare.stop();
  }
});

Deno.test("node.list lists the connected nodes of the shared registry (tests/nodes_test.ts drives real ones)", async () => {
  const stores = memoryStores();
  const gateway = await uiMethodsGateway({}, readNodeHostInfo, stores);
  try {
    const reader = await client(gateway, connectParams({ scopes: ["operator.read"] }));
    const empty = (await reader.request("node.list", {})).payload as { ts: number; nodes: unknown[] };
    assert.equal(typeof empty.ts, "number");
    assert.deepEqual(empty.nodes, []);
    await stores.nodes.put({
      nodeId: "n-1",
      connId: "c-1",
      clientId: "openclaw-macos",
      clientMode: "node",
      displayName: "Studio Mac",
      caps: [],
      commands: ["system.notify"],
      declaredCommands: ["system.notify"],
      connectedAtMs: 1,
    }, 60_000);
    const { nodes } = (await reader.request("node.list", {})).payload as { nodes: Record<string, unknown>[] };
    assert.deepEqual(nodes.map((n) => [n.nodeId, n.displayName, n.commands, n.connected]), [
      ["n-1", "Studio Mac", ["system.notify"], true],
    ]);
    reader.socket.close();
  } finally {
    await gateway.stop();
  }
});

Deno.test("ui methods: features this gateway lacks answer their empty state, never invented data", async () => {
  const gateway = await uiMethodsGateway();
  try {
    const admin = await client(gateway, connectParams({ scopes: ["operator.admin"] }));
    const payload = async (method: string) => (await admin.request(method, UI_CALLS[method])).payload;
    // Exec approvals are real here: the list shows what waits for an operator, and nothing else.
    assert.deepEqual(await payload("exec.approval.list"), []);
    const asked = await admin.request("exec.approval.request", {
      command: "ls",
      twoPhase: true,
      timeoutMs: 60_000,
      requireDeliveryRoute: false,
    });
    const waiting = await payload("exec.approval.list") as { id: string; request: { command: string } }[];
    assert.deepEqual(waiting.map((a) => [a.id, a.request.command]), [[
      (asked.payload as { id: string }).id,
      "ls",
    ]]);
    await admin.request("exec.approval.resolve", {
      id: (asked.payload as { id: string }).id,
      decision: "deny",
    });
    assert.deepEqual(await payload("plugin.approval.list"), []);
    assert.deepEqual(await payload("openclaw.approval.list"), []);
    assert.deepEqual(await payload("environments.list"), { environments: [] });
    assert.deepEqual(await payload("tasks.list"), { tasks: [] });
    assert.deepEqual(await payload("question.list"), { questions: [] });
    assert.deepEqual(await payload("progressCard.get"), { card: null });
    assert.deepEqual(await payload("sessions.branches.list"), { branches: [] });
    assert.deepEqual(await payload("update.status"), { sentinel: null, updateAvailable: null });
    assert.deepEqual((await payload("node.list") as { nodes: unknown[] }).nodes, []);
    // Cron is built (tests/cron_test.ts): the scheduler runs, and a gateway without jobs has none.
    assert.deepEqual(await payload("cron.status"), {
      enabled: true,
      triggersEnabled: false,
      jobs: 0,
      nextWakeAtMs: null,
    });
    assert.deepEqual(await payload("plugins.list"), { plugins: [], diagnostics: [], mutationAllowed: false });
    assert.deepEqual(await payload("plugins.catalog.browse"), { items: [] });
    // The reference UI checks an inventory page: offset and limit as asked, a revision, no next page.
    assert.deepEqual(await payload("cron.list"), {
      jobs: [],
      total: 0,
      offset: 0,
      limit: 50,
      hasMore: false,
      nextOffset: null,
      snapshotRevision: "sha256:T1PNoYwrqgwDVLtfmj7L5e0Sq02OEbqHPC8RFhICuUU",
      deliveryPreviews: {},
    });
    // As the reference's listPage: the limit as asked, the offset clamped to the jobs there are.
    const page = await admin.request("cron.list", { limit: 10, offset: 20 });
    assert.deepEqual(
      [(page.payload as { offset: number }).offset, (page.payload as { limit: number }).limit],
      [0, 10],
    );
    assert.deepEqual(await payload("cron.runs"), {
      entries: [],
      total: 0,
      offset: 0,
      limit: 50,
      hasMore: false,
      nextOffset: null,
    });
    const talk = await payload("talk.catalog") as { modes: unknown[]; speech: { providers: unknown[] } };
    assert.deepEqual(talk.modes, []);
    assert.deepEqual(talk.speech.providers, []);
    admin.socket.close();
  } finally {
    await gateway.stop();
  }
});

Deno.test("ui methods: agents, identity, chat.startup and sessions.describe read real state", async () => {
  const gateway = await uiMethodsGateway({
    entries: { main: { name: "Molty" }, helper: {} },
  });
  try {
    const c = await client(gateway, connectParams({ scopes: ["operator.read", "operator.write"] }));
    const agents = (await c.request("agents.list", {})).payload as {
      defaultId: string;
      agents: { id: string }[];
    };
    assert.equal(agents.defaultId, "main");
    assert.deepEqual(agents.agents.map((a) => a.id), ["main", "helper"]);
    const identity = (await c.request("agent.identity.get", { agentId: "main" })).payload;
    assert.deepEqual(identity, { agentId: "main", name: "Molty", nameSource: "config" });
    const unknown = await c.request("agent.identity.get", { agentId: "nobody" });
    assert.equal(unknown.ok, false);

    const before = (await c.request("sessions.describe", { key: "agent:main:main" })).payload;
    assert.deepEqual(before, { session: null });
    const send = await c.request("chat.send", {
      sessionKey: "main",
      message: "hi there",
      idempotencyKey: "k-ui",
    });
    assert.equal(send.ok, true);
    // The reference's clients match a run's events and their own user line by the key they sent.
    assert.equal((send.payload as { runId: string }).runId, "k-ui");
    const final = await c.socket.waitFor((f) =>
      f.event === "chat" && (f.payload as { state: string }).state === "final"
    );
    assert.equal((final.payload as { runId: string }).runId, "k-ui");

    const startup = (await c.request("chat.startup", { agentId: "main" })).payload as {
      sessionKey: string;
      messages: { role: string }[];
      metadata: { model: string; modelProvider: string };
      resolution: { ok: boolean; key: string };
    };
    assert.equal(startup.sessionKey, "agent:main:main");
    assert.deepEqual(startup.messages.map((m) => m.role), ["user", "assistant"]);
    assert.equal((startup.messages[0] as { idempotencyKey?: string }).idempotencyKey, "k-ui");
    assert.equal((startup.messages[1] as { idempotencyKey?: string }).idempotencyKey, undefined);
    assert.equal(startup.metadata.modelProvider, "local");
    assert.deepEqual(startup.resolution, { ok: true, key: "agent:main:main", agentId: "main" });
    const described = (await c.request("sessions.describe", { key: "agent:main:main" })).payload as {
      session: { key: string };
    };
    assert.equal(described.session.key, "agent:main:main");
    const auth = (await c.request("models.authStatus", {})).payload as { providers: { provider: string }[] };
    assert.ok(auth.providers.some((p) => p.provider === "local"));
    c.socket.close();
  } finally {
    await gateway.stop();
  }
});

Deno.test("agent runs carry the caller's idempotencyKey as runId, in the ack and every event", async () => {
  const gateway = await uiMethodsGateway();
  try {
    const c = await client(gateway);
    c.socket.send({
      type: "req",
      id: "a-1",
      method: "agent",
      params: { message: "hi", idempotencyKey: "k-agent" },
    });
    const ack = await c.socket.waitFor((f) => f.type === "res" && f.id === "a-1");
    assert.equal((ack.payload as { runId: string }).runId, "k-agent");
    const done = await c.socket.waitFor((f) => f.type === "res" && f.id === "a-1");
    assert.equal((done.payload as { runId: string }).runId, "k-agent");
    const runIds = c.socket.skipped.filter((f) => f.event === "agent" || f.event === "chat")
      .map((f) => (f.payload as { runId: string }).runId);
    assert.ok(runIds.length > 2);
    assert.deepEqual([...new Set(runIds)], ["k-agent"]);
    c.socket.close();
  } finally {
    await gateway.stop();
  }
});

Deno.test("sessions.messages.subscribe includeApprovals: reviewers get the (empty) replay, readers a refusal", async () => {
  const gateway = await uiMethodsGateway();
  try {
    const admin = await client(gateway, connectParams({ scopes: ["operator.admin"] }));
    const subscribed = await admin.request("sessions.messages.subscribe", {
      key: "main",
      includeApprovals: true,
    });
    assert.equal(subscribed.ok, true, JSON.stringify(subscribed.error));
    const payload = subscribed.payload as { subscribed: boolean; key: string; approvalReplay: unknown };
    assert.equal(payload.subscribed, true);
    assertMatchesSchema("SessionApprovalReplay", payload.approvalReplay);
    assert.deepEqual(payload.approvalReplay, {
      sessionKey: "agent:main:main",
      updatedAtMs: 0,
      approvals: [],
      truncated: false,
    });
    const plain = await admin.request("sessions.messages.subscribe", { key: "main" });
    assert.equal("approvalReplay" in (plain.payload as object), false);
    const reader = await client(gateway, connectParams({ scopes: ["operator.read"] }));
    const refused = await reader.request("sessions.messages.subscribe", {
      key: "main",
      includeApprovals: true,
    });
    assert.equal(refused.ok, false);
    admin.socket.close();
    reader.socket.close();
  } finally {
    await gateway.stop();
  }
});

if (referenceUi.reason) {
  console.warn(`dropin_control_ui_test: skipping the browser test: ${referenceUi.reason}`);
}

/** What the page did over its socket and in its console, as the test watches it. */
interface PageWatch {
  problems: string[];
  pending: Set<string>;
  lastFrameAt: number;
  methods: Set<string>;
  sent: { id: string; method: string; params: Record<string, unknown> }[];
  events: { event: string; payload: Record<string, unknown> }[];
}

function watchPage(page: Page): PageWatch {
  const watch: PageWatch = {
    problems: [],
    pending: new Set(),
    lastFrameAt: Date.now(),
    methods: new Set(),
    sent: [],
    events: [],
  };
  const names = new Map<string, string>();
  page.on("pageerror", (error) => watch.problems.push(`page error: ${error}`));
  page.on("console", (m) => m.type() === "error" && watch.problems.push(`console error: ${m.text()}`));
  page.on("response", (r) => r.status() >= 400 && watch.problems.push(`HTTP ${r.status()} ${r.url()}`));
  page.on("websocket", (ws) => {
    ws.on("framesent", ({ payload }) => {
      const frame = JSON.parse(String(payload));
      if (frame.type !== "req") return;
      names.set(frame.id, frame.method);
      watch.methods.add(frame.method);
      watch.pending.add(frame.id);
      watch.sent.push(frame);
      watch.lastFrameAt = Date.now();
    });
    ws.on("framereceived", ({ payload }) => {
      const frame = JSON.parse(String(payload));
      watch.lastFrameAt = Date.now();
      if (frame.type === "event") watch.events.push(frame);
      if (frame.type !== "res") return;
      // Two-stage methods ack first; only the final answer settles them.
      if (frame.ok && frame.payload?.status === "accepted") return;
      watch.pending.delete(frame.id);
      if (!frame.ok) watch.problems.push(`${names.get(frame.id)} answered ${JSON.stringify(frame.error)}`);
    });
  });
  return watch;
}

/** Waits until every request the page sent is answered and its socket has been quiet for a moment. */
async function settle(watch: PageWatch): Promise<void> {
  const deadline = Date.now() + 15_000;
  while (Date.now() < deadline) {
    if (!watch.pending.size && Date.now() - watch.lastFrameAt > 1_000) return;
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
  throw new Error(`requests still unanswered: ${[...watch.pending].join(", ")}`);
}

Deno.test({
  name: referenceUi.reason
    ? `reference Control UI in Chromium (skipped: ${referenceUi.reason})`
    : "reference Control UI in Chromium: connects same-origin, chats with a streamed reply, opens its pages cleanly",
  ignore: referenceUiMissing,
  sanitizeOps: false,
  sanitizeResources: false,
  async fn() {
    const dir = await Deno.makeTempDir({ prefix: "openclaw-dropin-ui-" });
    const { gateway, port } = await referenceUiGateway(referenceUi.root!, dir);
    const browser = await launchChromium();
    try {
      const page = await browser.newPage();
      const watch = watchPage(page);
      // No gatewayUrl and no allowedOrigins entry: the page and its socket are same-origin.
      await page.goto(`http://127.0.0.1:${port}/#token=${TOKEN}`);
      const composer = page.getByPlaceholder("Message main");
      await composer.waitFor({ timeout: 30_000 });
      await settle(watch);

      await composer.fill("hello from the reference ui");
      await page.keyboard.press("Enter");
      await page.getByText("I am the gateway's built-in local model").first().waitFor({ timeout: 15_000 });
      await settle(watch);
      const send = watch.sent.find((f) => f.method === "chat.send")!;
      const runId = send.params.idempotencyKey;
      const deltas = watch.events.filter((f) =>
        f.event === "chat" && f.payload.runId === runId && f.payload.state === "delta"
      );
      assert.ok(
        deltas.length > 3,
        `the reply streamed in deltas the page matched by its key (${deltas.length})`,
      );
      assert.equal(
        await page.getByText("hello from the reference ui").count(),
        1,
        "the sent message shows once",
      );

      for (const name of ["Agents", "Dashboards", "Systems", "Automations", "Plugins", "Home"]) {
        await page.getByRole("link", { name, exact: true }).first().click();
        await settle(watch);
      }
      await page.goto(`http://127.0.0.1:${port}/sessions`);
      await settle(watch);
      assert.match(page.url(), /\/sessions$/);

      const unknown = watch.problems.filter((p) => p.includes("unknown method"));
      assert.deepEqual(unknown, [], "no method the UI called is unknown here");
      assert.deepEqual(watch.problems, [], "no page error, console error, failed request or error answer");
      for (const method of ["chat.startup", "agents.list", "cron.list", "system.info", "plugins.list"]) {
        assert.ok(watch.methods.has(method), `the UI called ${method}`);
      }
    } finally {
      await browser.close();
      await gateway.stop();
      await Deno.remove(dir, { recursive: true });
    }
  },
});

Deno.test("the runner's Deno host reader reports what the node:os one does (but the Node version and uptime)", () => {
  const { nodeVersion: _n, uptimeMs: _u, cpuModel: _c, memoryFreeBytes: _f, loadAverage: _l, ...node } =
    readNodeHostInfo();
  const { nodeVersion, uptimeMs: _u2, memoryFreeBytes: _f2, loadAverage: _l2, ...deno } = readDenoHostInfo();
  assert.deepEqual(deno, node);
  assert.equal(nodeVersion, "");
});
