// Routes declare who may call them (`auth`, `scope`) and the router enforces it before the handler runs:
// each auth kind, scope refusals, custom verifiers that refuse before a body is read, async authenticators,
// and an embedder's route on a real gateway.
import assert from "node:assert/strict";
import { channelsModule } from "../lib/channels/mod.ts";
import { hooksModule } from "../lib/hooks/mod.ts";
import { HttpRouter } from "../lib/http/router.ts";
import { createGateway, type Gateway, type GatewayConfig, type GatewayModule } from "../mod.ts";
import type { CallerIdentity, HttpAuthResult, RequestInfo } from "../lib/types.ts";

const TOKEN = "route-auth-token-0123456789";
const INFO: RequestInfo = { remoteAddress: "127.0.0.1" };

const caller = (scopes: readonly string[], authMethod = "token"): CallerIdentity => ({
  connId: "http:1",
  role: "operator",
  scopes,
  authMethod,
});

const refusal = (): HttpAuthResult => ({ ok: false, response: new Response("nope", { status: 401 }) });

/** Echoes who the router admitted. */
const whoIs = (_request: Request, _info: RequestInfo, who: CallerIdentity | undefined) =>
  Response.json({ authMethod: who?.authMethod ?? null, scopes: who?.scopes ?? null });

async function answer(router: HttpRouter, path: string, init: RequestInit = {}) {
  const response = await router.handle(new Request(`http://h${path}`, init), INFO).response;
  return { status: response.status, text: await response.text() };
}

/** A request body that never arrives, and whether anyone asked for a byte of it. */
function unendingBody() {
  const state = { pulled: false };
  const body = new ReadableStream<Uint8Array>({ pull: () => void (state.pulled = true) }, {
    highWaterMark: 0,
  });
  return { body, state };
}

/** `promise`, or a rejection after `ms`: a handler that waits for the body must not pass for a refusal. */
function within<T>(promise: Promise<T>, ms: number): Promise<T> {
  let timer: ReturnType<typeof setTimeout> | undefined;
  const late = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`no answer within ${ms} ms`)), ms);
  });
  return Promise.race([promise, late]).finally(() => clearTimeout(timer));
}

Deno.test("each auth kind: none hands no caller, gateway and custom verifiers hand theirs", async () => {
  const router = new HttpRouter({
    authenticate: (request) =>
      request.headers.get("authorization") === `Bearer ${TOKEN}`
        ? { ok: true, caller: caller(["x"]) }
        : refusal(),
  });
  router.add({ path: "/open", auth: "none", handler: whoIs });
  router.add({ path: "/default", handler: whoIs });
  router.add({ path: "/gw", auth: "gateway", handler: whoIs });
  router.add({
    path: "/own",
    auth: (request) =>
      request.headers.get("x-sig") === "good" ? { ok: true, caller: caller([], "signature") } : refusal(),
    handler: whoIs,
  });
  const open = '{"authMethod":null,"scopes":null}';
  assert.deepEqual(await answer(router, "/open"), { status: 200, text: open });
  assert.deepEqual(await answer(router, "/default"), { status: 200, text: open }, "no auth declared = none");
  assert.deepEqual(await answer(router, "/gw"), { status: 401, text: "nope" });
  assert.deepEqual(await answer(router, "/gw", { headers: { authorization: `Bearer ${TOKEN}` } }), {
    status: 200,
    text: '{"authMethod":"token","scopes":["x"]}',
  });
  assert.deepEqual(await answer(router, "/own", { headers: { authorization: `Bearer ${TOKEN}` } }), {
    status: 401,
    text: "nope",
  }, "a custom verifier replaces gateway auth, it does not add to it");
  assert.deepEqual(await answer(router, "/own", { headers: { "x-sig": "good" } }), {
    status: 200,
    text: '{"authMethod":"signature","scopes":[]}',
  });
});

Deno.test("a router without an authenticator refuses gateway-auth routes at registration", () => {
  assert.throws(
    () => new HttpRouter().add({ path: "/gw", auth: "gateway", handler: whoIs }),
    /needs gateway auth/,
  );
});

Deno.test("scope refusals: the default 403 shape, or the route's own; enough scope reaches the handler", async () => {
  const router = new HttpRouter({ authenticate: () => ({ ok: true, caller: caller(["operator.read"]) }) });
  router.add({ path: "/admin", auth: "gateway", scope: "operator.admin", handler: whoIs });
  router.add({
    path: "/write",
    auth: "gateway",
    scope: "operator.write",
    scopeRefusal: (scope) => Response.json({ ok: false, need: scope }, { status: 403 }),
    handler: whoIs,
  });
  router.add({ path: "/read", auth: "gateway", scope: "operator.read", handler: whoIs });
  assert.deepEqual(await answer(router, "/admin"), {
    status: 403,
    text: '{"error":{"message":"missing scope: operator.admin","type":"forbidden"}}',
  });
  assert.deepEqual(await answer(router, "/write"), {
    status: 403,
    text: '{"ok":false,"need":"operator.write"}',
  });
  assert.equal((await answer(router, "/read")).status, 200);
});

Deno.test("enabled: a switched-off route is a plain 404 before auth runs; the method check comes first", async () => {
  let on = false;
  let checks = 0;
  const router = new HttpRouter({ authenticate: () => (checks++, refusal()) });
  router.add({ path: "/v", methods: ["GET"], enabled: () => on, auth: "gateway", handler: whoIs });
  assert.deepEqual(await answer(router, "/v"), { status: 404, text: "Not Found" });
  assert.equal((await answer(router, "/v", { method: "POST" })).status, 405);
  assert.equal(checks, 0);
  on = true;
  assert.equal((await answer(router, "/v")).status, 401);
  assert.equal(checks, 1);
});

Deno.test("a refusing verifier answers before the body is read: a body that never arrives does not delay it", async () => {
  let handled = false;
  const router = new HttpRouter();
  router.add({
    path: "/hook",
    auth: () => refusal(),
    async handler(request) {
      handled = true;
      return new Response(await request.text());
    },
  });
  const { body, state } = unendingBody();
  const request = new Request("http://h/hook", { method: "POST", body });
  const response = await within(Promise.resolve(router.handle(request, INFO).response), 2_000);
  assert.equal(response.status, 401);
  assert.equal(handled, false);
  assert.equal(state.pulled, false, "not a byte of the body was asked for");
  await body.cancel();
});

Deno.test("async authenticators and verifiers are awaited; sync ones add no promise", async () => {
  const router = new HttpRouter({
    authenticate: (request) =>
      Promise.resolve(
        request.headers.get("authorization") === `Bearer ${TOKEN}`
          ? { ok: true, caller: caller(["operator.read"]) }
          : refusal(),
      ),
  });
  router.add({ path: "/gw", auth: "gateway", scope: "operator.admin", handler: whoIs });
  router.add({ path: "/read", auth: "gateway", scope: "operator.read", handler: whoIs });
  router.add({
    path: "/own",
    auth: () => Promise.resolve({ ok: true, caller: caller([], "sig") }),
    handler: whoIs,
  });
  router.add({
    path: "/sync",
    auth: () => ({ ok: true, caller: caller([]) }),
    handler: () => new Response("s"),
  });
  const bearer = { headers: { authorization: `Bearer ${TOKEN}` } };
  assert.equal((await answer(router, "/gw")).status, 401);
  assert.equal((await answer(router, "/gw", bearer)).status, 403);
  assert.deepEqual(await answer(router, "/read", bearer), {
    status: 200,
    text: '{"authMethod":"token","scopes":["operator.read"]}',
  });
  assert.equal((await answer(router, "/own")).text, '{"authMethod":"sig","scopes":[]}');
  const sync = router.handle(new Request("http://h/sync"), INFO).response;
  assert.ok(sync instanceof Response, "a synchronous verifier and handler give a Response, not a Promise");
});

async function gatewayWith(modules: GatewayModule[], config: GatewayConfig = {}): Promise<Gateway> {
  const gateway = createGateway({
    config: { ...config, gateway: { auth: { mode: "token", token: TOKEN } } },
    modules,
  });
  await gateway.start();
  return gateway;
}

Deno.test("an embedder's route declares gateway auth and a scope; refusals count as HTTP auth failures", async () => {
  const failures: string[] = [];
  const mine: GatewayModule = {
    name: "mine",
    setup(ctx) {
      ctx.observe({ authFailure: (transport, reason) => void failures.push(`${transport}:${reason}`) });
      ctx.registerRoute({ path: "/mine", auth: "gateway", scope: "operator.read", handler: whoIs });
    },
  };
  const gateway = await gatewayWith([mine]);
  try {
    const ask = (headers: Record<string, string> = {}) =>
      gateway.fetch(new Request("http://gateway.test/mine", { headers }), INFO);
    const anonymous = await ask();
    assert.equal(anonymous.status, 401);
    assert.deepEqual(await anonymous.json(), { error: { message: "Unauthorized", type: "unauthorized" } });
    assert.deepEqual(failures, ["http:401"]);
    const owner = await ask({ authorization: `Bearer ${TOKEN}` });
    assert.equal(owner.status, 200);
    const body = await owner.json();
    assert.equal(body.authMethod, "token");
    assert.ok(body.scopes.includes("operator.read"));
  } finally {
    await gateway.stop();
  }
});

Deno.test("hooks: a wrong hook token is refused at once while the body never arrives", async () => {
  const gateway = await gatewayWith([hooksModule()], {
    hooks: { enabled: true, token: "hook-token-0123456789abcdef" },
  });
  try {
    const { body, state } = unendingBody();
    const request = new Request("http://gateway.test/hooks/agent", {
      method: "POST",
      headers: { authorization: "Bearer wrong-token", "content-type": "application/json" },
      body,
    });
    const response = await within(gateway.fetch(request, INFO), 2_000);
    assert.equal(response.status, 401);
    assert.deepEqual(await response.json(), {
      ok: false,
      error: "unauthorized: send the hook token as Authorization: Bearer <hooks.token>",
    });
    assert.equal(state.pulled, false);
    await body.cancel();
  } finally {
    await gateway.stop();
  }
});

Deno.test("channel webhooks: signature headers and secret tokens are checked before the body is read", async () => {
  // Telegram's API answers every call with success; nothing leaves the machine.
  const telegramApi = () => Promise.resolve(Response.json({ ok: true, result: { id: 1, username: "bot" } }));
  const gateway = await gatewayWith([channelsModule({ fetch: telegramApi })], {
    channels: {
      webhook: { secret: "webhook-secret-0123456789", outboundUrl: "http://127.0.0.1:9/replies" },
      telegram: {
        botToken: "123:abc",
        webhookUrl: "https://example.test/channels/telegram/webhook",
        webhookSecret: "telegram-secret-0123456789",
      },
    },
  });
  try {
    const refusedAtOnce = async (
      path: string,
      headers: Record<string, string>,
      status: number,
      error: string,
    ) => {
      const { body, state } = unendingBody();
      const request = new Request(`http://gateway.test${path}`, { method: "POST", headers, body });
      const response = await within(gateway.fetch(request, INFO), 2_000);
      assert.deepEqual({ status: response.status, body: await response.json() }, {
        status,
        body: { ok: false, error },
      }, path);
      assert.equal(state.pulled, false, path);
      await body.cancel();
    };
    await refusedAtOnce(
      "/channels/webhook/inbound",
      {},
      401,
      "missing x-openclaw-signature or x-openclaw-timestamp",
    );
    await refusedAtOnce(
      "/channels/telegram/webhook",
      {
        "x-telegram-bot-api-secret-token": "wrong",
      },
      401,
      "bad secret token",
    );
    await refusedAtOnce("/channels/nope/x", {}, 404, "no channel webhook for 'nope'");
  } finally {
    await gateway.stop();
  }
});
