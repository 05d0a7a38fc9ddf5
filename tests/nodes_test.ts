// Nodes: a scripted node client (a real WebSocket with an Ed25519 device identity, as OpenClaw's apps
// connect) registers, has its declared surface approved by an operator (node.pair.approve, as
// `openclaw nodes approve`), is listed and described, answers node.invoke from operators and agent turns.
import assert from "node:assert/strict";
import { deviceProof, makeDevice, type TestDevice } from "./_device_identity.ts";
import {
  agentsModule,
  type GatewayConfig,
  type GatewayStores,
  memoryStores,
  nodesModule,
  toolsModule,
} from "../mod.ts";
import { onMemoryAndRedis } from "./_redis_server.ts";
import { connectParams, TOKEN } from "./_helpers.ts";
import {
  handshake,
  type LoopbackGateway,
  loopbackGateway,
  untilAsync,
  type WsSession,
  wsSession,
} from "./_evidence_clients.ts";
import { assertMatchesSchema, schemaScope } from "./_protocol_schema.ts";
import { startToolCallUpstream } from "./_upstream.ts";

type Json = Record<string, unknown>;

const PHONE = {
  client: {
    id: "openclaw-ios",
    version: "2026.9.6",
    platform: "iOS 18.1",
    mode: "node",
    displayName: "Test Phone",
    deviceFamily: "iPhone",
    modelIdentifier: "iPhone17,1",
  },
  caps: ["location", "camera"],
  commands: ["system.notify", "location.get", "camera.snap", "fs.listDir", "browser.proxy"],
  permissions: { location: true, camera: false },
};

/** Connect params of a node, signed over the challenge the way the reference node client signs (v3). */
async function nodeParams(device: TestDevice, challenge: { nonce: string; ts: number }, declared = PHONE) {
  const { client } = declared;
  return {
    minProtocol: 4,
    maxProtocol: 4,
    ...declared,
    role: "node",
    scopes: [],
    auth: { token: TOKEN },
    device: await deviceProof(device, challenge, {
      client,
      role: "node",
      scopes: [],
      token: TOKEN,
      platform: client.platform.toLowerCase(),
      deviceFamily: client.deviceFamily.toLowerCase(),
    }),
  };
}

/** A scripted node on a real socket: connects, then answers what the test tells it to. */
interface NodeClient {
  id: string;
  session: WsSession;
  hello: Json;
  /** The next `node.invoke.request` the gateway sends this node. */
  nextInvoke(): Promise<Json>;
  /** Sends `node.invoke.result` for `request`. */
  answer(request: Json, result: Json): Promise<Json>;
}

/**
 * Connects a node; unless `approve` is false, an operator then approves its declared surface the way a
 * user does (loopback pairs the device silently, but the reference leaves its commands to an operator).
 */
async function connectNode(
  url: string,
  declared = PHONE,
  device?: TestDevice,
  { approve = true } = {},
): Promise<NodeClient> {
  device ??= await makeDevice();
  const session = wsSession(url);
  const challenge = (await session.waitFor((f) => f.event === "connect.challenge")).payload as {
    nonce: string;
    ts: number;
  };
  const params = await nodeParams(device, challenge, declared);
  assertMatchesSchema("ConnectParams", params);
  const response = await session.request("connect", params);
  assert.equal(response.ok, true, JSON.stringify(response.error));
  let seen = 0;
  const node: NodeClient = {
    id: device.id,
    session,
    hello: response.payload as Json,
    async nextInvoke() {
      const index = seen++;
      const frame = await session.waitFor((f) =>
        f.event === "node.invoke.request" &&
        session.frames.filter((g) => g.event === "node.invoke.request").indexOf(f) === index
      );
      assertMatchesSchema("NodeInvokeRequestEvent", frame.payload);
      return frame.payload as Json;
    },
    answer(request, result) {
      const params = { id: request.id, nodeId: request.nodeId, ...result };
      assertMatchesSchema("NodeInvokeResultParams", params);
      return session.request("node.invoke.result", params);
    },
  };
  if (approve) await approveSurface(url, node, declared);
  return node;
}

/** The operator scopes that may approve any surface, `system.run` and the relays included. */
const APPROVER = ["operator.pairing", "operator.admin"];

async function nodePairList(op: WsSession): Promise<{ pending: Json[]; paired: Json[] }> {
  assertMatchesSchema("NodePairListParams", {});
  const listed = await op.request("node.pair.list", {});
  assert.equal(listed.ok, true, JSON.stringify(listed.error));
  return listed.payload as { pending: Json[]; paired: Json[] };
}

/** The node's pending surface request, once the gateway has filed it. */
async function pendingRequest(op: WsSession, nodeId: string): Promise<Json> {
  let request: Json | undefined;
  await untilAsync(async () => {
    request = (await nodePairList(op)).pending.find((r) => r.nodeId === nodeId);
    return request !== undefined;
  }, "the node's surface request");
  return request!;
}

/**
 * Approves what `node` declared with `node.pair.approve`, unless an earlier approval covers it; resolves
 * once the live node heard `node.pair.resolved`, which the gateway sends after its commands follow.
 */
async function approveSurface(url: string, node: NodeClient, declared = PHONE): Promise<void> {
  const op = await operator(url, APPROVER);
  try {
    const covered = (await nodePairList(op)).paired.some((p) =>
      p.nodeId === node.id && declared.commands.every((c) => (p.commands as string[]).includes(c)) &&
      declared.caps.every((c) => (p.caps as string[]).includes(c))
    );
    if (covered) return;
    const { requestId } = await pendingRequest(op, node.id);
    assertMatchesSchema("NodePairApproveParams", { requestId });
    const approved = await op.request("node.pair.approve", { requestId });
    assert.equal(approved.ok, true, JSON.stringify(approved.error));
    const told = await node.session.waitFor((f) =>
      f.event === "node.pair.resolved" && (f.payload as Json).requestId === requestId
    );
    assert.deepEqual({ ...told.payload as Json, ts: 0 }, {
      requestId,
      nodeId: node.id,
      decision: "approved",
      ts: 0,
    });
  } finally {
    op.ws.close();
  }
}

async function operator(url: string, scopes = ["operator.read", "operator.write"]) {
  const { session, response } = await handshake(url, connectParams({ scopes }));
  assert.equal(response.ok, true, JSON.stringify(response.error));
  return session;
}

async function nodesGateway(config: GatewayConfig = {}): Promise<LoopbackGateway> {
  const agents = agentsModule();
  const tools = toolsModule({ agents });
  return await loopbackGateway({
    config: {
      ...config,
      gateway: { auth: { mode: "token", token: TOKEN }, ...config.gateway },
    },
    modules: [agents, tools, nodesModule({ tools })],
    checkResults: true,
  });
}

const ALLOW_ADMIN_RELAYS: GatewayConfig = {
  gateway: { nodes: { commands: { allow: ["fs.listDir", "browser.proxy"] } } },
};

Deno.test("a node connects with its device, and node.list / node.describe show it as the reference does", async () => {
  await using gw = await nodesGateway();
  const node = await connectNode(gw.url);
  assertMatchesSchema("HelloOk", node.hello);
  const auth = node.hello.auth as { role: string; scopes: string[]; deviceToken?: string };
  assert.equal(auth.role, "node");
  assert.deepEqual(auth.scopes, []);
  assert.ok(auth.deviceToken, "a loopback node is paired on the spot and gets its device token");

  const op = await operator(gw.url, ["operator.read"]);
  const features = node.hello.features as { methods: string[]; events: string[] };
  for (const method of ["node.list", "node.describe", "node.invoke", "node.invoke.result", "node.event"]) {
    assert.ok(features.methods.includes(method), method);
  }
  assert.ok(features.events.includes("node.invoke.request"));

  // Registered before its hello-ok went out: listed at once.
  assertMatchesSchema("NodeListParams", {});
  const list = await op.request("node.list", {});
  assert.equal(list.ok, true, JSON.stringify(list.error));
  const { ts, nodes } = list.payload as { ts: number; nodes: Json[] };
  assert.equal(typeof ts, "number");
  assert.equal(nodes.length, 1);
  const row = nodes[0]!;
  assert.deepEqual({ ...row, connectedAtMs: 0, lastConnectedAtMs: 0, lastSeenAtMs: 0 }, {
    nodeId: node.id,
    displayName: "Test Phone",
    platform: "iOS 18.1",
    version: "2026.9.6",
    clientId: "openclaw-ios",
    clientMode: "node",
    deviceFamily: "iPhone",
    modelIdentifier: "iPhone17,1",
    remoteIp: "127.0.0.1",
    caps: ["camera", "location"],
    // Declared and allowed for iOS; camera.snap needs an explicit opt-in, the desktop relays an approval.
    commands: ["location.get", "system.notify"],
    permissions: { location: true, camera: false },
    connectedAtMs: 0,
    lastConnectedAtMs: 0,
    lastSeenAtMs: 0,
    lastSeenReason: "connect",
    paired: true,
    connected: true,
  });
  assert.equal(row.lastSeenAtMs, row.connectedAtMs);

  assertMatchesSchema("NodeDescribeParams", { nodeId: node.id });
  const described = await op.request("node.describe", { nodeId: node.id });
  assert.deepEqual({ ...described.payload as Json, ts: 0 }, { ts: 0, ...row });
  const unknown = await op.request("node.describe", { nodeId: "nope" });
  assert.deepEqual(unknown.error, { code: "INVALID_REQUEST", message: "unknown nodeId" });

  // Roles keep to their own methods, in the reference's words.
  const nodeAsOperator = await node.session.request("node.list", {});
  assert.deepEqual(nodeAsOperator.error, { code: "INVALID_REQUEST", message: "unauthorized role: node" });
  const operatorAsNode = await op.request("node.event", { event: "node.presence.alive" });
  assert.deepEqual(operatorAsNode.error, { code: "INVALID_REQUEST", message: "unauthorized role: operator" });
  // Every client may check liveness, nodes included.
  assert.equal((await node.session.request("health", {})).ok, true);

  // Gone from the list once it leaves.
  node.session.ws.close();
  await untilAsync(
    async () => ((await op.request("node.list", {})).payload as { nodes: unknown[] }).nodes.length === 0,
    "the node to leave the list",
  );
  op.ws.close();
});

Deno.test("node.invoke reaches the node as node.invoke.request and answers with the node's result", async () => {
  await using gw = await nodesGateway();
  const node = await connectNode(gw.url);
  const op = await operator(gw.url);
  const params = {
    nodeId: node.id,
    command: "system.notify",
    params: { title: "hi", body: "there" },
    timeoutMs: 5_000,
    idempotencyKey: "k-1",
  };
  assertMatchesSchema("NodeInvokeParams", params);
  assert.equal(schemaScope("node.invoke"), "dynamic");
  const pending = op.request("node.invoke", params);
  const request = await node.nextInvoke();
  assert.equal(request.nodeId, node.id);
  assert.equal(request.command, "system.notify");
  assert.equal(request.paramsJSON, JSON.stringify({ title: "hi", body: "there" }));
  assert.equal(request.idempotencyKey, "k-1");
  assert.ok(typeof request.timeoutMs === "number" && request.timeoutMs <= 5_000);

  const ack = await node.answer(request, { ok: true, payloadJSON: JSON.stringify({ delivered: true }) });
  assert.deepEqual(ack.payload, { ok: true });
  const answer = await pending;
  assert.equal(answer.ok, true, JSON.stringify(answer.error));
  assert.deepEqual(answer.payload, {
    ok: true,
    nodeId: node.id,
    command: "system.notify",
    payload: { delivered: true },
    payloadJSON: '{"delivered":true}',
  });
  // A second answer to the same invoke is late: acknowledged and ignored.
  assert.deepEqual((await node.answer(request, { ok: true })).payload, { ok: true, ignored: true });
  // An answer naming another node is refused.
  const forged = await node.session.request("node.invoke.result", {
    id: request.id,
    nodeId: "other",
    ok: true,
  });
  assert.deepEqual(forged.error, { code: "INVALID_REQUEST", message: "nodeId mismatch" });

  // A node's own error comes back as UNAVAILABLE, its code leading the message.
  const failing = op.request("node.invoke", { ...params, idempotencyKey: "k-2" });
  const second = await node.nextInvoke();
  await node.answer(second, {
    ok: false,
    error: { code: "NODE_BACKGROUND_UNAVAILABLE", message: "app in background" },
  });
  const failed = await failing;
  assertMatchesSchema("ErrorShape", failed.error);
  assert.deepEqual(failed.error, {
    code: "UNAVAILABLE",
    message: "NODE_BACKGROUND_UNAVAILABLE: app in background",
    details: {
      nodeError: { code: "NODE_BACKGROUND_UNAVAILABLE", message: "app in background" },
      nodeCommandDispatched: true,
    },
  });

  // No answer within timeoutMs: the reference's timeout.
  const slow = await op.request("node.invoke", { ...params, timeoutMs: 150, idempotencyKey: "k-3" });
  assert.equal((slow.error as { message: string }).message, "TIMEOUT: node invoke timed out");
  await node.nextInvoke();

  // node.event: liveness is recorded, other events are answered as not handled.
  const alive = await node.session.request("node.event", {
    event: "node.presence.alive",
    payloadJSON: JSON.stringify({ trigger: "manual" }),
  });
  assertMatchesSchema("NodeEventResult", alive.payload);
  assert.deepEqual(alive.payload, {
    ok: true,
    event: "node.presence.alive",
    handled: true,
    reason: "persisted",
  });
  const described = (await op.request("node.describe", { nodeId: node.id })).payload as Json;
  assert.equal(described.lastSeenReason, "manual");
  const other = await node.session.request("node.event", {
    event: "voice.transcript",
    payload: { text: "x" },
  });
  assert.deepEqual(other.payload, {
    ok: true,
    event: "voice.transcript",
    handled: false,
    reason: "unsupported_event",
  });
  node.session.ws.close();
  op.ws.close();
});

Deno.test("a node that disconnects mid-invoke fails the invoke at once with DISCONNECTED", async () => {
  await using gw = await nodesGateway();
  const node = await connectNode(gw.url);
  const op = await operator(gw.url);
  const started = Date.now();
  const pending = op.request("node.invoke", {
    nodeId: node.id,
    command: "location.get",
    idempotencyKey: "k-d",
  });
  const request = await node.nextInvoke();
  assert.equal(request.paramsJSON, undefined, "no params, no paramsJSON");
  assert.equal(request.timeoutMs, 30_000, "the reference's default timeout");
  node.session.ws.close();
  const failed = await pending;
  assert.ok(Date.now() - started < 10_000, "not left to the 30 s timeout");
  assertMatchesSchema("ErrorShape", failed.error);
  assert.deepEqual(failed.error, {
    code: "UNAVAILABLE",
    message: "DISCONNECTED: node disconnected (location.get)",
    details: {
      nodeError: { code: "DISCONNECTED", message: "node disconnected (location.get)" },
      nodeCommandDispatched: true,
    },
  });
  await untilAsync(
    async () => ((await op.request("node.list", {})).payload as { nodes: unknown[] }).nodes.length === 0,
    "the node to leave the list",
  );
  const gone = await op.request("node.invoke", {
    nodeId: node.id,
    command: "location.get",
    idempotencyKey: "k-e",
  });
  assert.deepEqual(gone.error, {
    code: "UNAVAILABLE",
    message: "node not connected",
    details: {
      code: "NOT_CONNECTED",
      nodeError: { code: "NOT_CONNECTED", message: "node not connected" },
      nodeCommandDispatched: false,
    },
  });
  op.ws.close();
});

Deno.test("a node that reconnects keeps one row, the newer socket's; the old one closing late leaves it", async () => {
  await using gw = await nodesGateway();
  const device = await makeDevice();
  const first = await connectNode(gw.url, PHONE, device);
  const second = await connectNode(gw.url, PHONE, device);
  const op = await operator(gw.url);
  const listed = async () => ((await op.request("node.list", {})).payload as { nodes: Json[] }).nodes;
  assert.equal((await listed()).length, 1);
  // A config change rewrites the rows under the new policy, and the newer socket's row stays the row.
  const next = structuredClone(gw.gateway.config()) as GatewayConfig;
  next.gateway!.nodes = { commands: { deny: ["location.get"] } };
  assert.equal(gw.gateway.updateConfig(next).ok, true);
  await untilAsync(
    async () => (await listed())[0]?.commands?.toString() === "system.notify",
    "the rows to follow the new policy",
  );
  first.session.ws.close();
  await first.session.ended;
  const pending = op.request("node.invoke", {
    nodeId: device.id,
    command: "system.notify",
    idempotencyKey: "re",
  });
  await second.answer(await second.nextInvoke(), { ok: true, payload: "second" });
  assert.equal(((await pending).payload as Json).payload, "second");
  assert.equal((await listed()).length, 1, "the newer socket's row stays");
  second.session.ws.close();
  op.ws.close();
});

Deno.test("browser and file relays need operator.admin; the command policy refuses in the reference's words", async () => {
  await using gw = await nodesGateway(ALLOW_ADMIN_RELAYS);
  const node = await connectNode(gw.url);
  const writer = await operator(gw.url);
  const admin = await operator(gw.url, ["operator.admin"]);
  const invoke = (caller: WsSession, command: string, idempotencyKey: string, params?: Json) =>
    caller.request("node.invoke", { nodeId: node.id, command, params, idempotencyKey });
  for (const command of ["fs.listDir", "browser.proxy"]) {
    const refused = await invoke(writer, command, `w-${command}`);
    assert.deepEqual(refused.error, {
      code: "FORBIDDEN",
      message: "missing scope: operator.admin",
      details: { code: "MISSING_SCOPE", missingScope: "operator.admin", requiredScopes: ["operator.admin"] },
    });
    const pending = invoke(admin, command, `a-${command}`, { path: "/tmp" });
    const request = await node.nextInvoke();
    assert.equal(request.command, command);
    await node.answer(request, { ok: true, payload: { entries: [] } });
    const answer = await pending;
    assert.deepEqual((answer.payload as Json).payload, { entries: [] });
    assert.equal((answer.payload as Json).payloadJSON, null);
  }
  const dangerous = await invoke(admin, "camera.snap", "d");
  assert.deepEqual(dangerous.error, {
    code: "INVALID_REQUEST",
    message: 'node command not allowed: "camera.snap" requires explicit gateway.nodes.commands.allow opt-in',
    details: { reason: "command not allowlisted", command: "camera.snap" },
  });
  const undeclared = await invoke(admin, "device.info", "u");
  assert.deepEqual(undeclared.error, {
    code: "INVALID_REQUEST",
    message: 'node command not allowed: the node (platform: iOS 18.1) does not support "device.info"',
    details: { reason: "command not declared by node", command: "device.info" },
  });
  const approvals = await invoke(admin, "system.execApprovals.get", "x");
  assert.equal(
    (approvals.error as { message: string }).message,
    "node.invoke does not allow system.execApprovals.*; use exec.approvals.node.*",
  );
  node.session.ws.close();
  writer.ws.close();
  admin.ws.close();
});

Deno.test("a node without a device identity is refused as the reference refuses it", async () => {
  await using gw = await nodesGateway();
  const { session, response } = await handshake(
    gw.url,
    connectParams({
      client: PHONE.client,
      role: "node",
      scopes: [],
      commands: ["system.notify"],
    }),
  );
  assertMatchesSchema("ErrorShape", response.error);
  assert.deepEqual(response.error, {
    code: "NOT_PAIRED",
    message: "device identity required",
    details: { code: "DEVICE_IDENTITY_REQUIRED" },
  });
  assert.equal((await session.ended).code, 1008);
  const op = await operator(gw.url);
  assert.deepEqual(((await op.request("node.list", {})).payload as { nodes: unknown[] }).nodes, []);
  op.ws.close();
});

function agentConfig(upstreamUrl: string, extra: GatewayConfig = {}): GatewayConfig {
  return {
    models: {
      providers: {
        up: { baseUrl: upstreamUrl, apiKey: "k", api: "openai-completions", models: [{ id: "m" }] },
      },
    },
    agents: { defaults: { model: { primary: "up/m" } } },
    ...extra,
  };
}

Deno.test("an agent turn calls a node command as a tool, through node.invoke, and reads its answer", async () => {
  const upstream = startToolCallUpstream("node_system_notify", { params: { title: "from the agent" } });
  try {
    await using gw = await nodesGateway(agentConfig(upstream.url));
    const node = await connectNode(gw.url);
    const op = await operator(gw.url);
    const sent = await op.request("chat.send", {
      sessionKey: "main",
      message: "ping my phone",
      idempotencyKey: "t-1",
    });
    assert.equal(sent.ok, true, JSON.stringify(sent.error));

    const request = await node.nextInvoke();
    assert.equal(request.command, "system.notify");
    assert.equal(request.paramsJSON, JSON.stringify({ title: "from the agent" }));
    await node.answer(request, { ok: true, payloadJSON: JSON.stringify({ delivered: true }) });

    const final = await op.waitFor(
      (f) => f.event === "chat" && (f.payload as Json).state === "final",
      10_000,
    );
    const text = ((final.payload as Json).message as { content: { text: string }[] }).content[0]!.text;
    assert.equal(text, 'Tool said: {"delivered":true}');
    // The model was offered one tool per allowed command the node declared, under the tool policy.
    const offered = (upstream.requests[0]!.tools as { function: { name: string } }[]).map((t) =>
      t.function.name
    );
    assert.ok(
      offered.includes("node_system_notify") && offered.includes("node_location_get"),
      offered.join(),
    );
    assert.ok(!offered.includes("node_camera_snap") && !offered.includes("node_fs_listDir"), offered.join());
    node.session.ws.close();
    op.ws.close();
  } finally {
    await upstream.close();
  }
});

Deno.test("tool policy applies to node tools: group:nodes denied, the model is offered none", async () => {
  const upstream = startToolCallUpstream("node_system_notify", {});
  try {
    await using gw = await nodesGateway(agentConfig(upstream.url, { tools: { deny: ["group:nodes"] } }));
    const node = await connectNode(gw.url);
    const op = await operator(gw.url);
    await op.request("chat.send", { sessionKey: "main", message: "ping my phone", idempotencyKey: "t-2" });
    await op.waitFor((f) => f.event === "chat" && (f.payload as Json).state === "final", 10_000);
    const offered = ((upstream.requests[0]!.tools ?? []) as { function: { name: string } }[]).map((t) =>
      t.function.name
    );
    assert.ok(!offered.some((name) => name.startsWith("node_")), offered.join());
    assert.ok(
      !node.session.frames.some((f) => f.event === "node.invoke.request"),
      "the node was never asked",
    );
    node.session.ws.close();
    op.ws.close();
  } finally {
    await upstream.close();
  }
});

const PENDING_HINT = "node command not allowed: the node's declared command surface is pending approval; " +
  "run `openclaw nodes pending`, then `openclaw nodes approve <requestId>`";

Deno.test("a declared command waits for node.pair.approve: refused and no tool, then runs, and goes with the pairing", async () => {
  const upstream = startToolCallUpstream("node_system_notify", { params: { title: "t" } });
  try {
    await using gw = await nodesGateway(agentConfig(upstream.url));
    const device = await makeDevice();
    let node = await connectNode(gw.url, PHONE, device, { approve: false });
    const op = await operator(gw.url);
    const approver = await operator(gw.url, APPROVER);
    const commands = async () => {
      const described = await op.request("node.describe", { nodeId: device.id });
      return (described.payload as { commands: string[] }).commands;
    };
    const invoke = (command: string, key: string) =>
      op.request("node.invoke", { nodeId: device.id, command, idempotencyKey: key });
    /** One agent turn; resolves the node tools the model was offered. */
    const turn = async (key: string, answer?: NodeClient) => {
      const from = upstream.requests.length;
      const sent = await op.request("chat.send", {
        sessionKey: "main",
        message: "ping",
        idempotencyKey: key,
      });
      assert.equal(sent.ok, true, JSON.stringify(sent.error));
      if (answer) await answer.answer(await answer.nextInvoke(), { ok: true, payload: { delivered: true } });
      await op.waitFor((f) =>
        f.event === "chat" && (f.payload as Json).state === "final" &&
        (f.payload as Json).runId === (sent.payload as Json).runId, 10_000);
      const tools = (upstream.requests[from]!.tools ?? []) as { function: { name: string } }[];
      return tools.map((t) => t.function.name).filter((name) => name.startsWith("node_"));
    };
    const refusedAsPending = async (key: string) => {
      const refused = await invoke("system.notify", key);
      assertMatchesSchema("ErrorShape", refused.error);
      assert.deepEqual(refused.error, {
        code: "INVALID_REQUEST",
        message: PENDING_HINT,
        details: { reason: "node did not declare commands", command: "system.notify" },
      });
    };

    // Paired (silently, on loopback) but its surface not approved: no commands, no tools, the hint.
    const request = await pendingRequest(approver, device.id);
    assert.deepEqual(request.commands, PHONE.commands);
    assert.deepEqual(await commands(), []);
    await refusedAsPending("p-1");
    assert.deepEqual(await turn("t-1"), []);
    assert.ok(
      !node.session.frames.some((f) => f.event === "node.invoke.request"),
      "the node was never asked",
    );

    // An operator approves: the live connection gets the declared ∩ allowed commands, no reconnect needed.
    await approveSurface(gw.url, node);
    assert.deepEqual(await commands(), ["location.get", "system.notify"]);
    const pending = invoke("system.notify", "p-2");
    await node.answer(await node.nextInvoke(), { ok: true, payload: "shown" });
    assert.equal(((await pending).payload as Json).payload, "shown");
    assert.deepEqual((await turn("t-2", node)).sort(), ["node_location_get", "node_system_notify"]);

    // A wider surface waits for its own approval; what was approved and is still declared stays.
    node.session.ws.close();
    const wider = { ...PHONE, commands: [...PHONE.commands, "device.info"] };
    node = await connectNode(gw.url, wider, device, { approve: false });
    assert.deepEqual(await commands(), ["location.get", "system.notify"]);
    const waiting = await invoke("device.info", "p-3");
    assert.deepEqual(waiting.error, {
      code: "INVALID_REQUEST",
      message: 'node command not allowed: the node (platform: iOS 18.1) does not support "device.info"',
      details: { reason: "command not declared by node", command: "device.info" },
    });

    // Removing the pairing drops the node's socket; paired again, it starts with nothing approved.
    assertMatchesSchema("NodePairRemoveParams", { nodeId: device.id });
    const removed = await approver.request("node.pair.remove", { nodeId: device.id });
    assert.equal(removed.ok, true, JSON.stringify(removed.error));
    await node.session.ended;
    await untilAsync(
      async () => ((await op.request("node.list", {})).payload as { nodes: unknown[] }).nodes.length === 0,
      "the removed node to leave the list",
    );
    node = await connectNode(gw.url, PHONE, device, { approve: false });
    assert.deepEqual(await commands(), []);
    await refusedAsPending("p-4");
    assert.deepEqual(await turn("t-3"), []);
    for (const session of [node.session, op, approver]) session.ws.close();
  } finally {
    await upstream.close();
  }
});

/** Two replicas over one bundle: the node on the first, the operator on the second. */
async function acrossReplicas(...stores: GatewayStores[]) {
  const agents = [agentsModule(), agentsModule()];
  const [a, b] = await Promise.all([0, 1].map((i) =>
    loopbackGateway({
      config: { gateway: { auth: { mode: "token", token: TOKEN } } },
      stores: stores[i],
      modules: [agents[i]!, nodesModule()],
    })
  ));
  try {
    // Approved from the other replica: the node's own replica follows the approval it did not see made.
    const node = await connectNode(a!.url, PHONE, undefined, { approve: false });
    await approveSurface(b!.url, node);
    const op = await operator(b!.url);
    await untilAsync(
      async () => ((await op.request("node.list", {})).payload as { nodes: unknown[] }).nodes.length === 1,
      "the other replica to list the node",
    );
    const pending = op.request("node.invoke", {
      nodeId: node.id,
      command: "system.notify",
      idempotencyKey: "r-1",
    });
    await node.answer(await node.nextInvoke(), { ok: true, payload: { replica: "a" } });
    assert.deepEqual(((await pending).payload as Json).payload, { replica: "a" });

    const cut = op.request("node.invoke", {
      nodeId: node.id,
      command: "location.get",
      idempotencyKey: "r-2",
    });
    await node.nextInvoke();
    node.session.ws.close();
    const failed = await cut;
    assert.equal(
      (failed.error as { message: string }).message,
      "DISCONNECTED: node disconnected (location.get)",
    );
    await untilAsync(
      async () => ((await op.request("node.list", {})).payload as { nodes: unknown[] }).nodes.length === 0,
      "the other replica to drop the node",
    );
    op.ws.close();
  } finally {
    await a!.gateway.stop();
    await b!.gateway.stop();
  }
}

onMemoryAndRedis(
  {
    memory: "replicas over one bundle: a node on one replica is listed and invoked from the other",
    redis: "replicas over one Redis: a node on one replica is listed and invoked from the other",
  },
  "nodes-test:",
  acrossReplicas,
);

Deno.test("a replica whose node reconnected elsewhere never writes the old socket's row back", async () => {
  const shared = memoryStores();
  const replica = () =>
    loopbackGateway({
      config: { gateway: { auth: { mode: "token", token: TOKEN } } },
      stores: shared,
      modules: [nodesModule()],
    });
  await using a = await replica();
  await using b = await replica();
  const device = await makeDevice();
  const old = await connectNode(a.url, PHONE, device);
  const newer = await connectNode(b.url, PHONE, device);
  // A config change on the old socket's replica rewrites its rows; the node's row is the newer socket's.
  const next = structuredClone(a.gateway.config()) as GatewayConfig;
  next.gateway!.nodes = { commands: { deny: ["location.get"] } };
  assert.equal(a.gateway.updateConfig(next).ok, true);
  await new Promise((resolve) => setTimeout(resolve, 200));
  const op = await operator(b.url);
  const pending = op.request("node.invoke", {
    nodeId: device.id,
    command: "system.notify",
    idempotencyKey: "x",
  });
  await newer.answer(await newer.nextInvoke(), { ok: true });
  assert.equal((await pending).ok, true);
  assert.ok(
    !old.session.frames.some((f) => f.event === "node.invoke.request"),
    "the old socket was not asked",
  );
  for (const session of [old.session, newer.session, op]) session.ws.close();
});

Deno.test("a replica that stops cancels, once drained, the invokes it is still waiting for", async () => {
  const shared = memoryStores();
  const replica = () =>
    loopbackGateway({
      config: { gateway: { auth: { mode: "token", token: TOKEN } } },
      stores: shared,
      modules: [nodesModule()],
      timing: { drainTimeoutMs: 200 },
    });
  await using a = await replica();
  const b = await replica();
  const node = await connectNode(a.url);
  const pending = b.gateway.call("node.invoke", {
    nodeId: node.id,
    command: "system.notify",
    idempotencyKey: "s",
  })
    .then(() => undefined, (error) => error);
  await node.nextInvoke();
  const started = Date.now();
  await b.gateway.stop();
  const error = await pending;
  assert.equal(error?.message, "ABORTED: node invoke cancelled");
  assert.ok(Date.now() - started < 5_000, "not left to the 30 s invoke timeout");
  node.session.ws.close();
});
