// Issue 14, item 1 (lib/auth split): what the Authenticator answers and in which order it asks its stores,
// pinned case by case, so carving it into modules cannot change a code, a message or the order of checks
// (the lockout before any secret comparison; a failure counted only for a wrong credential).
import assert from "node:assert/strict";
import { Authenticator, type AuthenticatorDeps } from "../lib/auth/authenticator.ts";
import { attributeClient } from "../lib/auth/client-address.ts";
import { resolveAuth } from "../lib/auth/shared-secret.ts";
import type { GatewayAuthConfig } from "../lib/config/sections/gateway.ts";
import { GatewayError } from "../lib/errors.ts";
import { DEFAULT_OPERATOR_SCOPES } from "../lib/protocol/scopes.ts";
import type { ConnectParams } from "../lib/protocol/frames.ts";
import { approvedPairing, MemoryDeviceStore, type PairedDevice } from "../lib/state/devices.ts";
import { MemoryRateLimitStore } from "../lib/state/rate-limit.ts";
import { deviceProof, makeDevice, signedConnectParams, type TestDevice } from "./_device_identity.ts";
import { connectParams, TOKEN } from "./_helpers.ts";

const NOW = 1_700_000_000_000;
const NONCE = "nonce-1";
const LAN = "192.168.1.20";
const PROXY = "10.0.0.5";
const PASSWORD = "a-password-0123456789";
const DEVICE_TOKEN = "device-token-0123456789abcdef";
const POLICY = { max: 3, windowMs: 60_000, lockoutMs: 300_000 };

interface Setup {
  auth?: GatewayAuthConfig;
  env?: Record<string, string>;
  trustedProxies?: string[];
  /** Failed attempts already counted for this rate key before the case runs. */
  priorFailures?: { key: string; count: number };
  /** A device already paired (with an operator token `DEVICE_TOKEN` unless it has tokens). */
  paired?: PairedDevice;
  interfaces?: string[] | "fail";
  origins?: string[];
}

/** An authenticator over in-memory stores whose every store call and callback lands in `trace`. */
async function harness(setup: Setup) {
  const trace: string[] = [];
  const rates = new MemoryRateLimitStore(() => NOW);
  for (let i = 0; i < (setup.priorFailures?.count ?? 0); i++) {
    await rates.hit(setup.priorFailures!.key, POLICY);
  }
  const devices = new MemoryDeviceStore();
  if (setup.paired) await devices.save(setup.paired);
  const traced = <T extends object>(name: string, target: T): T =>
    new Proxy(target, {
      get(object, prop) {
        const value = Reflect.get(object, prop, object);
        if (typeof value !== "function") return value;
        return (...args: unknown[]) => {
          trace.push(`${name}.${String(prop)}${typeof args[0] === "string" ? ` ${args[0]}` : ""}`);
          return value.apply(object, args);
        };
      },
    });
  const auth = resolveAuth(setup.auth ?? { mode: "token", token: TOKEN }, setup.env ?? {});
  const settings = { trustedProxies: setup.trustedProxies ?? [], allowRealIpFallback: false };
  let ids = 0;
  const deps: AuthenticatorDeps = {
    auth: () => auth,
    trustedProxies: () => settings.trustedProxies,
    attribute: (peer, headers) => attributeClient(peer, headers, settings),
    interfaceAddresses: () => {
      trace.push("interfaceAddresses");
      if (setup.interfaces === "fail") throw new Error("no interfaces");
      return new Set(setup.interfaces ?? ["192.168.1.2"]);
    },
    originRefusal: (headers) => {
      trace.push("originRefusal");
      const origin = headers.get("origin")!;
      return setup.origins?.includes(origin) ? undefined : `origin ${origin} is not allowed`;
    },
    rateLimits: traced("rate", rates),
    rateLimitPolicy: POLICY,
    exemptLoopback: () => true,
    devices: traced("devices", devices),
    pairingRequested: (outcome) => trace.push(`pairingRequested ${outcome.request.requestId}`),
    nodeConnected: (device, _params, remote) => trace.push(`nodeConnected ${device.deviceId} ${remote}`),
    now: () => NOW,
    newToken: () => `new-token-${++ids}`,
    newRequestId: () => `request-${++ids}`,
  };
  return { authenticator: new Authenticator(deps), trace };
}

type Outcome = Record<string, unknown>;

async function socket(
  setup: Setup,
  params: Record<string, unknown>,
  from: { remoteAddress?: string; headers?: Record<string, string> } = {},
): Promise<Outcome> {
  const { authenticator, trace } = await harness(setup);
  try {
    const result = await authenticator.authenticateSocket(params as ConnectParams, {
      connId: "c1",
      remoteAddress: from.remoteAddress ?? "127.0.0.1",
      headers: new Headers(from.headers),
      url: "http://gateway.test/",
      nonce: NONCE,
    });
    return { result, trace };
  } catch (error) {
    if (!(error instanceof GatewayError)) throw error;
    return { error: error.toShape(), trace };
  }
}

async function http(
  setup: Setup,
  from: { remoteAddress?: string; headers?: Record<string, string> } = {},
): Promise<Outcome> {
  const { authenticator, trace } = await harness(setup);
  const request = new Request("http://gateway.test/v1/models", { headers: from.headers });
  const answer = authenticator.authenticateHttp(request, {
    remoteAddress: from.remoteAddress ?? "127.0.0.1",
  });
  const sync = !(answer instanceof Promise);
  const result = await answer;
  if (result.ok) return { sync, caller: result.caller, trace };
  const { status, headers } = result.response;
  return { sync, status, retryAfter: headers.get("retry-after"), body: await result.response.json(), trace };
}

function pairedDevice(device: TestDevice, scopes = ["operator.read"]): PairedDevice {
  return approvedPairing(undefined, {
    requestId: "r0",
    deviceId: device.id,
    publicKey: device.publicKey,
    role: "operator",
    scopes,
    roles: ["operator"],
    silent: false,
    isRepair: false,
    ts: NOW,
  }, { newToken: DEVICE_TOKEN, now: NOW, via: "owner" });
}

const proxyAuth = (more: Record<string, unknown> = {}): GatewayAuthConfig => ({
  mode: "trusted-proxy",
  trustedProxy: { userHeader: "x-forwarded-user", requiredHeaders: ["x-proxy-secret"], ...more },
  identityScopes: { "alice@example.com": ["operator.read", "operator.write"] },
});
const proxyHeaders = (extra: Record<string, string> = {}) => ({
  "x-forwarded-for": "203.0.113.7",
  "x-forwarded-user": "Alice@example.com",
  "x-proxy-secret": "s",
  ...extra,
});

const LAN_LOCKED = { key: `ip:${LAN}`, count: 3 };
const LAN_ONE_FAILURE = { key: `ip:${LAN}`, count: 1 };
const ui = { id: "ui", version: "1", platform: "linux", mode: "ui" };

Deno.test("socket: protocol and attribution refusals come before any store is asked", async () => {
  assert.deepEqual(await socket({}, connectParams({ minProtocol: 9, maxProtocol: 9 })), {
    error: {
      code: "INVALID_REQUEST",
      message:
        "protocol mismatch: client supports v9-v9, gateway speaks v4 (minimum v4); update the client or the gateway",
      details: {
        code: "PROTOCOL_MISMATCH",
        clientMinProtocol: 9,
        clientMaxProtocol: 9,
        expectedProtocol: 4,
        minProtocol: 4,
      },
    },
    trace: [],
  });
  assert.deepEqual(await socket({}, connectParams(), { headers: { "x-forwarded-for": "203.0.113.7" } }), {
    error: {
      code: "INVALID_REQUEST",
      message:
        "proxy_attribution_required: the request carries forwarding headers but no trusted proxy names its client; add the proxy's address to gateway.trustedProxies and have it set X-Forwarded-For, or connect directly without forwarding headers",
      details: {
        code: "AUTH_PROXY_ATTRIBUTION_REQUIRED",
        authReason: "proxy_attribution_required",
        recommendedNextStep: "review_auth_configuration",
      },
    },
    trace: [],
  });
});

Deno.test("socket: a missing secret is not counted, a wrong one is, each with its code and wording", async () => {
  const wrong = (code: string, what: string, reason: string) => ({
    code: "INVALID_REQUEST",
    message: `unauthorized: gateway ${what} mismatch (check the ${what} configured for this client)`,
    details: { code, authReason: reason, recommendedNextStep: "update_auth_credentials" },
  });
  const missing = (code: string, what: string, reason: string) => ({
    code: "INVALID_REQUEST",
    message: `unauthorized: gateway ${what} missing (pass the gateway ${what} in connect.params.auth)`,
    details: { code, authReason: reason, recommendedNextStep: "update_auth_credentials" },
  });
  const password = { mode: "password" as const, password: PASSWORD };
  assert.deepEqual(await socket({}, connectParams({ auth: {} }), { remoteAddress: LAN }), {
    error: missing("AUTH_TOKEN_MISSING", "token", "token_missing"),
    trace: [`rate.peek ip:${LAN}`],
  });
  assert.deepEqual(await socket({}, connectParams({ auth: { token: "wrong" } }), { remoteAddress: LAN }), {
    error: wrong("AUTH_TOKEN_MISMATCH", "token", "token_mismatch"),
    // No device identity, so no device token to look up: the token can only be the shared one.
    trace: [`rate.peek ip:${LAN}`, `rate.hit ip:${LAN}`],
  });
  assert.deepEqual(await socket({ auth: password }, connectParams({ auth: {} }), { remoteAddress: LAN }), {
    error: missing("AUTH_PASSWORD_MISSING", "password", "password_missing"),
    trace: [`rate.peek ip:${LAN}`],
  });
  assert.deepEqual(
    await socket({ auth: password }, connectParams({ auth: { password: "nope" } }), { remoteAddress: LAN }),
    {
      error: wrong("AUTH_PASSWORD_MISMATCH", "password", "password_mismatch"),
      trace: [`rate.peek ip:${LAN}`, `rate.hit ip:${LAN}`],
    },
  );
});

Deno.test("socket: a locked-out client is refused before its (correct) secret is compared", async () => {
  const outcome = await socket({ priorFailures: LAN_LOCKED }, connectParams(), { remoteAddress: LAN });
  assert.deepEqual(outcome, {
    error: {
      code: "INVALID_REQUEST",
      message: "unauthorized: too many failed authentication attempts (retry later)",
      details: {
        code: "AUTH_RATE_LIMITED",
        authReason: "rate_limited",
        recommendedNextStep: "wait_then_retry",
      },
      retryable: true,
      retryAfterMs: 300_000,
    },
    trace: [`rate.peek ip:${LAN}`],
  });
});

Deno.test("socket: success forgets earlier failures only when there were some; loopback is exempt", async () => {
  const caller = (remoteAddress: string, scopes: string[]) => ({
    connId: "c1",
    role: "operator",
    client: connectParams().client,
    remoteAddress,
    scopes,
    authMethod: "token",
  });
  assert.deepEqual(await socket({}, connectParams(), { remoteAddress: LAN }), {
    result: { caller: caller(LAN, []) },
    trace: [`rate.peek ip:${LAN}`],
  });
  assert.deepEqual(
    await socket({ priorFailures: LAN_ONE_FAILURE }, connectParams(), { remoteAddress: LAN }),
    {
      result: { caller: caller(LAN, []) },
      trace: [`rate.peek ip:${LAN}`, `rate.reset ip:${LAN}`],
    },
  );
  assert.deepEqual(await socket({}, connectParams()), {
    result: { caller: caller("127.0.0.1", ["operator.read", "operator.write"]) },
    trace: [],
  });
  const browser = await socket({}, connectParams(), { headers: { origin: "http://a.test" } });
  assert.deepEqual(browser.trace, ["rate.peek browser:127.0.0.1"]);
});

Deno.test("socket: a device token admits the device proving its key, in its role within its scopes; bare it is a wrong token", async () => {
  const device = await makeDevice();
  const paired = pairedDevice(device);
  const challenge = { nonce: NONCE, ts: NOW };
  const signed = async (client: typeof ui, role: string, scopes: string[]) =>
    connectParams({
      client,
      role,
      scopes,
      auth: { token: DEVICE_TOKEN },
      device: await deviceProof(device, challenge, {
        client,
        role,
        scopes,
        token: DEVICE_TOKEN,
        platform: "linux",
        deviceFamily: "",
      }),
    });
  assert.deepEqual(
    await socket({ paired, priorFailures: LAN_ONE_FAILURE }, await signed(ui, "operator", []), {
      remoteAddress: LAN,
    }),
    {
      result: {
        caller: {
          connId: "c1",
          role: "operator",
          client: ui,
          remoteAddress: LAN,
          scopes: ["operator.read"],
          deviceId: device.id,
          authMethod: "device-token",
        },
      },
      // No reset: the counter guards the shared secret (tests/review_restructure_test.ts, finding 1).
      trace: [`rate.peek ip:${LAN}`, `devices.byToken ${DEVICE_TOKEN}`],
    },
  );
  assert.deepEqual(
    await socket({ paired }, await signed(ui, "operator", ["operator.admin", "operator.read"]), {
      remoteAddress: LAN,
    }),
    {
      error: {
        code: "INVALID_REQUEST",
        message: "device token does not cover scopes: operator.admin",
        details: { code: "AUTH_SCOPE_MISMATCH", recommendedNextStep: "review_auth_configuration" },
      },
      trace: [`rate.peek ip:${LAN}`, `devices.byToken ${DEVICE_TOKEN}`],
    },
  );
  // Without the device's proof the token is no device's: a wrong shared token, counted, the store unasked.
  const bare = connectParams({ client: ui, scopes: [], auth: { token: DEVICE_TOKEN } });
  assert.deepEqual(await socket({ paired }, bare, { remoteAddress: LAN }), {
    error: {
      code: "INVALID_REQUEST",
      message: "unauthorized: gateway token mismatch (check the token configured for this client)",
      details: {
        code: "AUTH_TOKEN_MISMATCH",
        authReason: "token_mismatch",
        recommendedNextStep: "update_auth_credentials",
      },
    },
    trace: [`rate.peek ip:${LAN}`, `rate.hit ip:${LAN}`],
  });
  const node = {
    ...paired,
    roles: ["node"],
    tokens: { node: { ...paired.tokens.operator, role: "node", scopes: [] } },
  };
  const nodeParams = await signed(
    { id: "node-host", version: "1", platform: "linux", mode: "node" },
    "node",
    [],
  );
  const asNode = await socket({ paired: node }, nodeParams, { remoteAddress: LAN });
  assert.deepEqual((asNode.result as { caller: { scopes: string[] } }).caller.scopes, []);
  assert.deepEqual(asNode.trace, [
    `rate.peek ip:${LAN}`,
    `devices.byToken ${DEVICE_TOKEN}`,
    `nodeConnected ${device.id} ${LAN}`,
  ]);
  const revoked = { ...node, tokens: { node: { ...node.tokens.node, revokedAtMs: NOW } } };
  const refused = await socket({ paired: revoked }, nodeParams, { remoteAddress: LAN });
  assert.equal((refused.error as { details: { code: string } }).details.code, "AUTH_TOKEN_MISMATCH");
});

Deno.test("socket: a device proof is checked after the secret, then the device is admitted or asked to pair", async () => {
  const device = await makeDevice();
  const challenge = { nonce: NONCE, ts: NOW };
  const scopes = ["operator.read"];
  const params = await signedConnectParams(device, challenge, { scopes });
  const bad = await signedConnectParams(device, { nonce: "other", ts: NOW }, { scopes });
  assert.deepEqual(await socket({ priorFailures: LAN_ONE_FAILURE }, bad, { remoteAddress: LAN }), {
    error: {
      code: "INVALID_REQUEST",
      message: "device proof nonce does not match this connection's challenge",
      details: { code: "DEVICE_AUTH_NONCE_MISMATCH", reason: "device-nonce-mismatch" },
    },
    trace: [`rate.peek ip:${LAN}`, `rate.reset ip:${LAN}`],
  });
  const local = await socket({}, params);
  assert.deepEqual(local.trace, [`devices.get ${device.id}`, "devices.save"]);
  const { result } = local as { result: { caller: Record<string, unknown>; deviceToken: unknown } };
  assert.deepEqual(result.deviceToken, { token: "new-token-2", issuedAtMs: NOW });
  assert.equal(result.caller.deviceId, device.id);
  assert.equal(result.caller.authMethod, "token");
  assert.deepEqual(result.caller.scopes, scopes);

  assert.deepEqual(await socket({}, params, { remoteAddress: LAN }), {
    error: {
      code: "NOT_PAIRED",
      message: "pairing required: device is not approved yet",
      details: {
        code: "PAIRING_REQUIRED",
        reason: "not-paired",
        requestId: "request-1",
        remediationHint: "Approve this device from the pending pairing requests.",
        deviceId: device.id,
        requestedRole: "operator",
        requestedScopes: scopes,
      },
    },
    trace: [
      `rate.peek ip:${LAN}`,
      `devices.get ${device.id}`,
      "devices.request",
      "pairingRequested request-1",
    ],
  });
  const approved = await socket({ paired: pairedDevice(device) }, params, { remoteAddress: LAN });
  assert.deepEqual(approved.trace, [`rate.peek ip:${LAN}`, `devices.get ${device.id}`]);
  assert.deepEqual((approved.result as { deviceToken: unknown }).deviceToken, {
    token: DEVICE_TOKEN,
    issuedAtMs: NOW,
  });
});

Deno.test("socket: trusted proxy identities, narrowed by the proxy's scope header; refusals name their reason", async () => {
  const setup = { auth: proxyAuth(), trustedProxies: [PROXY] };
  const admitted = await socket(setup, connectParams({ scopes: ["operator.admin"] }), {
    remoteAddress: PROXY,
    headers: proxyHeaders({ "x-openclaw-scopes": "operator.read, operator.admin" }),
  });
  assert.deepEqual(admitted, {
    result: {
      caller: {
        connId: "c1",
        role: "operator",
        client: connectParams().client,
        remoteAddress: "203.0.113.7",
        scopes: ["operator.read", "operator.write"],
        authMethod: "trusted-proxy",
      },
    },
    trace: ["rate.peek ip:203.0.113.7", "interfaceAddresses"],
  });
  assert.deepEqual(
    await socket(setup, connectParams(), {
      remoteAddress: PROXY,
      headers: proxyHeaders({ "x-proxy-secret": "" }),
    }),
    {
      error: {
        code: "INVALID_REQUEST",
        message: "unauthorized: trusted proxy did not set required header x-proxy-secret",
        details: {
          code: "AUTH_TRUSTED_PROXY_REJECTED",
          authReason: "trusted_proxy_missing_header_x-proxy-secret",
          recommendedNextStep: "review_auth_configuration",
        },
      },
      trace: ["rate.peek ip:203.0.113.7", "interfaceAddresses"],
    },
  );
  const fallback = await socket(
    { ...setup, auth: { ...proxyAuth(), password: PASSWORD } },
    connectParams({ auth: { password: PASSWORD } }),
  );
  assert.equal((fallback.result as { caller: { authMethod: string } }).caller.authMethod, "password");
});

Deno.test("trusted proxy: each check in its documented order, first failure wins", async () => {
  const reason = async (setup: Setup, remoteAddress: string, headers: Record<string, string>) => {
    const outcome = await http(setup, { remoteAddress, headers });
    const body = outcome.body as { error: { code?: string; type: string; message: string } } | undefined;
    return body ? [outcome.status, body.error.code ?? body.error.type, body.error.message] : outcome.caller;
  };
  const base = { auth: proxyAuth(), trustedProxies: [PROXY, "127.0.0.1"] };
  const cases: [Setup, string, Record<string, string>, unknown][] = [
    [{ ...base, auth: { mode: "trusted-proxy" } }, PROXY, proxyHeaders(), [
      401,
      "trusted_proxy_config_missing",
      "Unauthorized: gateway.auth.trustedProxy is not configured; set at least its userHeader",
    ]],
    [{ ...base, trustedProxies: [] }, LAN, proxyHeaders(), [
      401,
      "trusted_proxy_no_proxies_configured",
      "Unauthorized: gateway.trustedProxies is empty; list the reverse proxy's address there",
    ]],
    [base, LAN, proxyHeaders(), [
      401,
      "trusted_proxy_untrusted_source",
      `Unauthorized: request did not come through a trusted proxy (peer ${LAN} is not in gateway.trustedProxies)`,
    ]],
    [base, PROXY, { "x-forwarded-user": "alice@example.com", "x-proxy-secret": "s" }, [
      403,
      "proxy_attribution_required",
      "proxy_attribution_required: the request carries forwarding headers but no trusted proxy names its client; add the proxy's address to gateway.trustedProxies and have it set X-Forwarded-For, or connect directly without forwarding headers",
    ]],
    [base, "127.0.0.1", proxyHeaders(), [
      401,
      "trusted_proxy_loopback_source",
      "Unauthorized: trusted proxy 127.0.0.1 is a loopback address; set gateway.auth.trustedProxy.allowLoopback to trust a same-host proxy",
    ]],
    [{ ...base, interfaces: "fail" }, PROXY, proxyHeaders(), [
      401,
      "trusted_proxy_local_interface_check_failed",
      "Unauthorized: could not list this host's network interfaces to rule out same-host spoofing",
    ]],
    [{ ...base, interfaces: [PROXY] }, PROXY, proxyHeaders(), [
      401,
      "trusted_proxy_local_interface_source",
      `Unauthorized: request came from ${PROXY}, one of this host's own addresses, not from the proxy`,
    ]],
    [base, PROXY, proxyHeaders({ "x-forwarded-user": " " }), [
      401,
      "trusted_proxy_user_missing",
      "Unauthorized: trusted proxy did not set x-forwarded-user",
    ]],
    [{ ...base, auth: proxyAuth({ allowUsers: ["bob"] }) }, PROXY, proxyHeaders(), [
      401,
      "trusted_proxy_user_not_allowed",
      "Unauthorized: user Alice@example.com is not in gateway.auth.trustedProxy.allowUsers",
    ]],
    [base, PROXY, proxyHeaders({ origin: "http://evil.test" }), [
      401,
      "trusted_proxy_origin_not_allowed",
      "Unauthorized: origin http://evil.test is not allowed",
    ]],
  ];
  for (const [setup, peer, headers, expected] of cases) {
    assert.deepEqual(await reason(setup, peer, headers), expected, JSON.stringify(expected));
  }
  const loopbackProxy = { ...base, auth: proxyAuth({ allowLoopback: true }), origins: ["http://ok.test"] };
  const admitted = await http(loopbackProxy, {
    remoteAddress: "127.0.0.1",
    headers: proxyHeaders({ origin: "http://ok.test" }),
  });
  assert.deepEqual(admitted, {
    sync: true,
    caller: {
      connId: "http:1",
      role: "operator",
      scopes: DEFAULT_OPERATOR_SCOPES,
      authMethod: "trusted-proxy",
      remoteAddress: "203.0.113.7",
    },
    trace: ["originRefusal"],
  });
});

Deno.test("http: bearer checks, lockout before comparison, no device tokens, and the synchronous hot path", async () => {
  const refused = {
    status: 401,
    retryAfter: null,
    body: { error: { message: "Unauthorized", type: "unauthorized" } },
  };
  const bearer = (token: string) => ({ authorization: `Bearer ${token}` });
  const caller = (remoteAddress: string, authMethod: string, scopes: unknown) => ({
    connId: "http:1",
    role: "operator",
    scopes,
    authMethod,
    remoteAddress,
  });
  assert.deepEqual(await http({}, { headers: bearer(TOKEN) }), {
    sync: true,
    caller: caller("127.0.0.1", "token", DEFAULT_OPERATOR_SCOPES),
    trace: [],
  });
  assert.deepEqual(await http({}, { remoteAddress: LAN }), {
    sync: false,
    ...refused,
    trace: [`rate.peek ip:${LAN}`],
  });
  assert.deepEqual(await http({}, { remoteAddress: LAN, headers: bearer("wrong") }), {
    sync: false,
    ...refused,
    trace: [`rate.peek ip:${LAN}`, `rate.hit ip:${LAN}`],
  });
  assert.deepEqual(
    await http({ priorFailures: LAN_LOCKED }, { remoteAddress: LAN, headers: bearer(TOKEN) }),
    {
      sync: false,
      status: 429,
      retryAfter: "300",
      body: { error: { message: "Too many failed authentication attempts", type: "rate_limited" } },
      trace: [`rate.peek ip:${LAN}`],
    },
  );
  const device = await makeDevice();
  const paired = pairedDevice(device, ["operator.read"]);
  assert.deepEqual(
    await http({ paired, priorFailures: LAN_ONE_FAILURE }, {
      remoteAddress: LAN,
      headers: bearer(DEVICE_TOKEN),
    }),
    // An operator's device token too: no device token admits over HTTP.
    { sync: false, ...refused, trace: [`rate.peek ip:${LAN}`, `rate.hit ip:${LAN}`] },
  );
  assert.deepEqual(
    await http({ priorFailures: LAN_ONE_FAILURE }, { remoteAddress: LAN, headers: bearer(TOKEN) }),
    {
      sync: false,
      caller: caller(LAN, "token", DEFAULT_OPERATOR_SCOPES),
      trace: [`rate.peek ip:${LAN}`, `rate.reset ip:${LAN}`],
    },
  );
  assert.deepEqual(
    await http({ auth: { mode: "none" } }, {
      headers: { "x-openclaw-scopes": "operator.read,,operator.read" },
    }),
    { sync: true, caller: caller("127.0.0.1", "none", ["operator.read"]), trace: [] },
  );
  assert.deepEqual(await http({}, { headers: { "x-forwarded-for": "203.0.113.7" } }), {
    sync: true,
    status: 403,
    retryAfter: null,
    body: {
      error: {
        message:
          "proxy_attribution_required: the request carries forwarding headers but no trusted proxy names its client; add the proxy's address to gateway.trustedProxies and have it set X-Forwarded-For, or connect directly without forwarding headers",
        type: "proxy_attribution_required",
      },
    },
    trace: [],
  });
  const fallback = await http(
    { auth: { ...proxyAuth(), password: PASSWORD }, trustedProxies: [PROXY] },
    { headers: bearer(PASSWORD) },
  );
  assert.deepEqual(fallback, {
    sync: true,
    caller: caller("127.0.0.1", "password", DEFAULT_OPERATOR_SCOPES),
    trace: [],
  });
});

Deno.test("http: a device token admits no caller (the device's key cannot be proven); it is counted", async () => {
  const device = await makeDevice();
  const node = approvedPairing(undefined, {
    requestId: "r0",
    deviceId: device.id,
    publicKey: device.publicKey,
    role: "node",
    scopes: [],
    roles: ["node"],
    silent: false,
    isRepair: false,
    ts: NOW,
  }, { newToken: DEVICE_TOKEN, now: NOW, via: "owner" });
  assert.deepEqual(
    await http({ paired: node }, {
      remoteAddress: LAN,
      headers: { authorization: `Bearer ${DEVICE_TOKEN}` },
    }),
    {
      sync: false,
      status: 401,
      retryAfter: null,
      body: { error: { message: "Unauthorized", type: "unauthorized" } },
      trace: [`rate.peek ip:${LAN}`, `rate.hit ip:${LAN}`],
    },
  );
});
