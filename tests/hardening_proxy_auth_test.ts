// Hardening II, items 1, 2, 3, 7 and 12: who a request is attributed to (trusted proxies, CIDRs,
// forwarded chains), trusted-proxy auth in its documented order, per-client limits behind a real nginx,
// forwarding headers from peers nobody trusts, DNS-rebinding host checks, contradictory auth at startup.
import assert from "node:assert/strict";
import http from "node:http";
import { join } from "node:path";
import WebSocket from "ws";
import { agentsModule } from "../lib/agents/mod.ts";
import { attributeClient } from "../lib/auth/client-address.ts";
import { validateConfig } from "../lib/config/schema.ts";
import { metricsModule, PROMETHEUS_PATH } from "../lib/metrics/mod.ts";
import { toolsModule } from "../lib/tools/mod.ts";
import { originRefusal } from "../lib/ui/origin.ts";
import {
  createGateway,
  type Gateway,
  type GatewayConfig,
  type GatewayModule,
  openMemorySocket,
} from "../mod.ts";
import { denoTransport } from "../deno.ts";
import { findBinary, untilListening } from "./_daemon.ts";
import { connect, connectParams, TOKEN } from "./_helpers.ts";
import { fakeLinuxHost, recordingRunner, runOps, withTempDir, writeConfig } from "./_ops_fakes.ts";
import { freePort, runnerEnv, spawnRunner } from "./_runner_process.ts";

const PASSWORD = "proxy-password-0123456789";

/** A route that answers who the gateway thinks the HTTP caller is. */
const whoami: GatewayModule = {
  name: "whoami",
  setup(ctx) {
    ctx.registerRoute({
      path: "/whoami",
      async handler(request, info) {
        const auth = await ctx.authenticateHttp(request, info);
        if (!auth.ok) return auth.response;
        const { scopes, remoteAddress, authMethod } = auth.caller;
        return Response.json({ scopes, remoteAddress, authMethod });
      },
    });
  },
};

async function ask(
  gateway: Gateway,
  remoteAddress: string,
  headers: Record<string, string> = {},
): Promise<{ status: number; body: Record<string, unknown> }> {
  const response = await gateway.fetch(new Request("http://gateway.test/whoami", { headers }), {
    remoteAddress,
  });
  return { status: response.status, body: await response.json() };
}

function reasonOf(body: Record<string, unknown>): string {
  const error = body.error as { type: string; code?: string };
  return error.code ?? error.type;
}

async function memoryGateway(config: GatewayConfig, extra: Parameters<typeof createGateway>[0] = {}) {
  const gateway = createGateway({ config, modules: [whoami], ...extra });
  await gateway.start();
  return gateway;
}

const proxyConfig = (
  trustedProxy: Record<string, unknown> = {},
  more: Record<string, unknown> = {},
): GatewayConfig => ({
  gateway: {
    auth: {
      mode: "trusted-proxy",
      trustedProxy: { userHeader: "x-forwarded-user", ...trustedProxy },
      ...more,
    },
    trustedProxies: ["10.0.0.0/8", "fd00::/8", "127.0.0.1"],
  },
});

const via = (client: string, user = "alice@example.com", extra: Record<string, string> = {}) => ({
  "x-forwarded-for": client,
  "x-forwarded-user": user,
  ...extra,
});

// ---------------------------------------------------------------------------------------------------
// Item 1: trusted-proxy mode

/** A real gateway on loopback with metrics and /tools/invoke, to replay the issue's attack over sockets. */
async function realGateway(config: GatewayConfig) {
  const agents = agentsModule();
  const gateway = createGateway({
    config,
    transport: denoTransport(),
    hostname: "127.0.0.1",
    port: 0,
    modules: [agents, metricsModule({ agents }), toolsModule({ agents }), whoami],
  });
  const { port } = (await gateway.start())!;
  return { gateway, port, [Symbol.asyncDispose]: () => gateway.stop() };
}

/** Opens a WebSocket with `ws` (headers and source address under the test's control) and connects. */
function wsConnect(
  url: string,
  params: Record<string, unknown>,
  options: { headers?: Record<string, string>; localAddress?: string } = {},
): Promise<{ status?: number; body?: string; response?: Record<string, unknown> }> {
  return new Promise((resolve, reject) => {
    const socket = new WebSocket(url, options);
    socket.on("unexpected-response", (_req, res) => {
      let body = "";
      res.on("data", (chunk: Uint8Array) => (body += new TextDecoder().decode(chunk)));
      res.on("end", () => resolve({ status: res.statusCode, body }));
    });
    socket.on("error", reject);
    socket.on("message", (data) => {
      const frame = JSON.parse(String(data));
      if (frame.event === "connect.challenge") {
        socket.send(JSON.stringify({ type: "req", id: "c", method: "connect", params }));
      } else if (frame.type === "res" && frame.id === "c") {
        socket.close();
        resolve({ response: frame });
      }
    });
  });
}

Deno.test("trusted-proxy: a direct client sending X-Forwarded-User without X-Forwarded-For gets 403 proxy_attribution_required on metrics, /tools/invoke and the WebSocket", async () => {
  await using server = await realGateway(proxyConfig({}, {}));
  const base = `http://127.0.0.1:${server.port}`;
  const headers = { "x-forwarded-user": "alice" };
  const metrics = await fetch(`${base}${PROMETHEUS_PATH}`, { headers });
  assert.equal(metrics.status, 403);
  assert.equal((await metrics.json()).error.type, "proxy_attribution_required");
  const tools = await fetch(`${base}/tools/invoke`, {
    method: "POST",
    headers: { ...headers, "content-type": "application/json" },
    body: JSON.stringify({ tool: "sessions_list", args: {} }),
  });
  assert.equal(tools.status, 403);
  assert.equal((await tools.json()).error.type, "proxy_attribution_required");
  const ws = await wsConnect(
    `ws://127.0.0.1:${server.port}`,
    connectParams({ auth: {}, scopes: ["operator.admin"] }),
    {
      headers,
    },
  );
  assert.equal(ws.status, 403);
  assert.match(ws.body!, /proxy_attribution_required/);
});

Deno.test("trusted-proxy: checks run in the documented order and name their reason codes", async () => {
  const gateway = await memoryGateway(
    proxyConfig({ requiredHeaders: ["x-forwarded-proto"], allowUsers: ["alice@example.com"] }),
  );
  const proto = { "x-forwarded-proto": "https" };
  const cases: [string, string, Record<string, string>, number, string][] = [
    [
      "untrusted peer",
      "192.0.2.9",
      via("203.0.113.7", "alice@example.com", proto),
      401,
      "trusted_proxy_untrusted_source",
    ],
    [
      "trusted peer, no forwarded client",
      "10.0.0.1",
      { "x-forwarded-user": "alice@example.com", ...proto },
      403,
      "proxy_attribution_required",
    ],
    [
      "forwarded client is loopback",
      "10.0.0.1",
      via("127.0.0.1", "alice@example.com", proto),
      403,
      "proxy_attribution_required",
    ],
    [
      "forwarded client is garbage",
      "10.0.0.1",
      via("not-an-ip", "alice@example.com", proto),
      403,
      "proxy_attribution_required",
    ],
    // Loopback source is refused before the missing required header is even looked at.
    [
      "loopback proxy without allowLoopback",
      "127.0.0.1",
      via("203.0.113.7"),
      401,
      "trusted_proxy_loopback_source",
    ],
    [
      "required header missing",
      "10.0.0.1",
      via("203.0.113.7"),
      401,
      "trusted_proxy_missing_header_x-forwarded-proto",
    ],
    ["user header blank", "10.0.0.1", via("203.0.113.7", " ", proto), 401, "trusted_proxy_user_missing"],
    [
      "user not allowed",
      "10.0.0.1",
      via("203.0.113.7", "mallory@example.com", proto),
      401,
      "trusted_proxy_user_not_allowed",
    ],
  ];
  for (const [what, peer, headers, status, reason] of cases) {
    const { status: got, body } = await ask(gateway, peer, headers);
    assert.equal(got, status, what);
    assert.equal(reasonOf(body), reason, what);
  }
  // CIDR entries match, IPv4, IPv4-mapped IPv6 and IPv6 alike.
  for (const peer of ["10.20.30.40", "::ffff:10.20.30.40", "fd00::5"]) {
    const { status, body } = await ask(gateway, peer, via("203.0.113.7", "alice@example.com", proto));
    assert.equal(status, 200, peer);
    assert.equal(body.authMethod, "trusted-proxy");
    assert.equal(body.remoteAddress, "203.0.113.7", "the caller is the forwarded client, not the proxy");
  }
  await gateway.stop();

  const loopbackProxy = await memoryGateway(proxyConfig({ allowLoopback: true }));
  assert.equal(
    (await ask(loopbackProxy, "127.0.0.1", via("203.0.113.7"))).status,
    200,
    "allowLoopback opts in",
  );
  await loopbackProxy.stop();

  const bare = await memoryGateway({
    gateway: { auth: { mode: "trusted-proxy" }, trustedProxies: ["10.0.0.1"] },
  });
  assert.equal(
    reasonOf((await ask(bare, "10.0.0.1", via("203.0.113.7"))).body),
    "trusted_proxy_config_missing",
  );
  await bare.stop();

  const none = await memoryGateway({
    gateway: { auth: { mode: "trusted-proxy", trustedProxy: { userHeader: "x-forwarded-user" } } },
  });
  assert.equal(
    reasonOf((await ask(none, "10.0.0.1", via("203.0.113.7"))).body),
    "trusted_proxy_no_proxies_configured",
  );
  await none.stop();
});

Deno.test("trusted-proxy: a source that is one of this host's own addresses is refused, and so is an unlistable host", async () => {
  const config = proxyConfig();
  let listings = 0;
  const local = await memoryGateway(config, {
    transport: { ...denoTransport(), interfaceAddresses: () => (listings++, ["10.9.9.9"]) },
  });
  assert.equal(
    reasonOf((await ask(local, "10.9.9.9", via("203.0.113.7"))).body),
    "trusted_proxy_local_interface_source",
  );
  for (let i = 0; i < 10; i++) assert.equal((await ask(local, "10.9.9.8", via("203.0.113.7"))).status, 200);
  assert.equal(listings, 1, "the host's addresses are listed once, not per request");
  await local.stop();
  const broken = await memoryGateway(config, {
    transport: {
      ...denoTransport(),
      interfaceAddresses: () => {
        throw new Error("no netlink");
      },
    },
  });
  assert.equal(
    reasonOf((await ask(broken, "10.9.9.8", via("203.0.113.7"))).body),
    "trusted_proxy_local_interface_check_failed",
  );
  await broken.stop();
});

Deno.test("trusted-proxy: HTTP scopes follow x-openclaw-scopes (absent = default set, empty = none)", async () => {
  const gateway = await memoryGateway(proxyConfig());
  const scopes = async (extra: Record<string, string>) =>
    (await ask(gateway, "10.0.0.1", via("203.0.113.7", "alice@example.com", extra))).body.scopes;
  assert.ok((await scopes({}) as string[]).includes("operator.admin"));
  assert.deepEqual(await scopes({ "x-openclaw-scopes": "operator.read, operator.write" }), [
    "operator.read",
    "operator.write",
  ]);
  assert.deepEqual(await scopes({ "x-openclaw-scopes": "" }), []);
  await gateway.stop();
});

Deno.test("trusted-proxy: WebSocket sessions get the identity's grant, never the scopes they ask for", async () => {
  const gateway = await memoryGateway(
    proxyConfig({}, { identityScopes: { "Admin@Example.com": ["operator.admin"], bob: ["operator.read"] } }),
  );
  const hello = async (user: string, extra: Record<string, string> = {}) => {
    const { response } = await connect(
      gateway,
      connectParams({ auth: {}, scopes: ["operator.admin", "operator.write"] }),
      {
        remoteAddress: "10.0.0.1",
        headers: via("203.0.113.7", user, extra),
      },
    );
    assert.equal(response.ok, true, JSON.stringify(response.error));
    return (response.payload as { auth: { scopes: string[] } }).auth.scopes;
  };
  assert.deepEqual(
    await hello("admin@example.com"),
    ["operator.admin"],
    "email keys match case-insensitively",
  );
  assert.deepEqual(await hello("bob"), ["operator.read"], "asking for admin does not widen the grant");
  assert.deepEqual(await hello("carol@example.com"), [], "no grant, no scopes");
  assert.deepEqual(await hello("admin@example.com", { "x-openclaw-scopes": "operator.read" }), [
    "operator.read",
  ], "the proxy's header narrows");
  assert.deepEqual(
    await hello("bob", { "x-openclaw-scopes": "operator.admin" }),
    ["operator.read"],
    "and never widens",
  );
  // The direct attack from the issue gets no hello at all.
  assert.throws(
    () => openMemorySocket(gateway, { remoteAddress: "127.0.0.1", headers: { "x-forwarded-user": "alice" } }),
    /HTTP 403/,
  );
  const direct = await connect(gateway, connectParams({ auth: {} }), { remoteAddress: "127.0.0.1" });
  assert.equal(
    (direct.response.error as { details: { authReason: string } }).details.authReason,
    "proxy_attribution_required",
  );
  await gateway.stop();
});

Deno.test("trusted-proxy: a same-host caller may fall back to the password, only without forwarding headers; never to a token", async () => {
  const gateway = await memoryGateway({
    gateway: {
      auth: { mode: "trusted-proxy", password: PASSWORD, trustedProxy: { userHeader: "x-forwarded-user" } },
      trustedProxies: ["10.0.0.1"],
    },
  });
  const bearer = { authorization: `Bearer ${PASSWORD}` };
  assert.equal((await ask(gateway, "127.0.0.1", bearer)).status, 200);
  assert.equal((await ask(gateway, "127.0.0.1", { ...bearer, "x-forwarded-proto": "https" })).status, 403);
  assert.equal(
    (await ask(gateway, "192.0.2.1", bearer)).status,
    401,
    "remote callers do not get the fallback",
  );
  const ws = await connect(gateway, connectParams({ auth: { password: PASSWORD } }));
  assert.equal(ws.response.ok, true);
  await gateway.stop();
});

// ---------------------------------------------------------------------------------------------------
// Attribution itself

Deno.test("attribution: right-most untrusted hop of X-Forwarded-For / Forwarded; X-Real-IP only with the fallback on", () => {
  const settings = { trustedProxies: ["10.0.0.0/8"], allowRealIpFallback: false };
  const from = (headers: Record<string, string>, peer = "10.0.0.1", s = settings) =>
    attributeClient(peer, new Headers(headers), s);
  assert.equal(from({ "x-forwarded-for": "6.6.6.6, 198.51.100.4, 10.0.0.7" }).address, "198.51.100.4");
  assert.equal(
    from({ forwarded: 'for=6.6.6.6, for="[2001:db8::1]:4711";proto=https' }).address,
    "2001:db8::1",
  );
  assert.equal(from({ "x-forwarded-for": "198.51.100.4:5555" }).address, "198.51.100.4");
  assert.equal(from({ "x-real-ip": "198.51.100.4" }).unattributable, true);
  assert.equal(
    from({ "x-real-ip": "198.51.100.4" }, "10.0.0.1", { ...settings, allowRealIpFallback: true }).address,
    "198.51.100.4",
  );
  // An untrusted remote peer's claims are ignored, not refused.
  const remote = from({ "x-forwarded-for": "1.1.1.1" }, "192.0.2.5");
  assert.deepEqual([remote.address, remote.unattributable], ["192.0.2.5", false]);
  assert.equal(from({}, "::ffff:192.0.2.5").address, "192.0.2.5", "IPv4-mapped peers key like plain IPv4");
});

// ---------------------------------------------------------------------------------------------------
// Item 3: forwarding headers from a peer nobody trusts; one counter per address

Deno.test("a loopback request with forwarding headers from an untrusted peer gets 403 proxy_attribution_required, HTTP and WS upgrade", async () => {
  await using server = await realGateway({ gateway: { auth: { mode: "token", token: TOKEN } } });
  const base = `http://127.0.0.1:${server.port}`;
  const auth = { authorization: `Bearer ${TOKEN}` };
  const claims: Record<string, string>[] = [
    { "x-forwarded-for": "203.0.113.9" },
    { forwarded: "for=203.0.113.9" },
    { "x-real-ip": "203.0.113.9" },
  ];
  for (const header of claims) {
    const response = await fetch(`${base}/whoami`, { headers: { ...auth, ...header } });
    assert.equal(response.status, 403, JSON.stringify(header));
    assert.equal((await response.json()).error.type, "proxy_attribution_required");
    const ws = await wsConnect(`ws://127.0.0.1:${server.port}`, connectParams(), { headers: header });
    assert.equal(ws.status, 403, JSON.stringify(header));
  }
  const plain = await fetch(`${base}/whoami`, { headers: auth });
  assert.equal(plain.status, 200);
  await plain.body?.cancel();
});

Deno.test("one failure counter per address: switching from token to password (or to HTTP) buys no fresh tries", async () => {
  const gateway = await memoryGateway({ gateway: { auth: { mode: "token", token: TOKEN } } });
  const remoteAddress = "198.51.100.7";
  for (let i = 0; i < 10; i++) {
    await connect(gateway, connectParams({ auth: { token: `wrong-${i}` } }), { remoteAddress });
  }
  const withPassword = await connect(
    gateway,
    connectParams({ auth: { token: "wrong", password: "guess" } }),
    {
      remoteAddress,
    },
  );
  assert.equal(
    (withPassword.response.error as { details: { code: string } }).details.code,
    "AUTH_RATE_LIMITED",
  );
  assert.equal((await ask(gateway, remoteAddress, { authorization: `Bearer ${TOKEN}` })).status, 429);
  assert.equal((await ask(gateway, "198.51.100.8", { authorization: `Bearer ${TOKEN}` })).status, 200);
  await gateway.stop();
});

// ---------------------------------------------------------------------------------------------------
// Item 2: limits behind a real reverse proxy (nginx from Debian)

const NGINX = findBinary("nginx", ["/usr/sbin", "/usr/local/sbin", "/usr/bin", "/usr/local/bin"]);
if (!NGINX) console.warn("skipping the nginx tests: nginx is not installed (apt-get install nginx)");

/** nginx on a free loopback port in front of `upstream`, overwriting X-Forwarded-For with the client. */
async function startNginx(upstream: number) {
  const dir = await Deno.makeTempDir({ prefix: "nginx-proxy-auth-" });
  const port = freePort();
  await Deno.writeTextFile(
    join(dir, "nginx.conf"),
    `worker_processes 1;
pid ${dir}/nginx.pid;
error_log ${dir}/error.log warn;
events { worker_connections 128; }
http {
  access_log off;
  client_body_temp_path ${dir}/body;
  proxy_temp_path ${dir}/proxy;
  fastcgi_temp_path ${dir}/fastcgi;
  uwsgi_temp_path ${dir}/uwsgi;
  scgi_temp_path ${dir}/scgi;
  map $http_upgrade $connection_upgrade { default upgrade; '' close; }
  server {
    listen 127.0.0.1:${port};
    location / {
      proxy_pass http://127.0.0.1:${upstream};
      proxy_http_version 1.1;
      proxy_set_header Upgrade $http_upgrade;
      proxy_set_header Connection $connection_upgrade;
      proxy_set_header X-Forwarded-For $remote_addr;
    }
  }
}
`,
  );
  const child = new Deno.Command(NGINX!, {
    args: ["-p", dir, "-c", join(dir, "nginx.conf"), "-e", join(dir, "error.log"), "-g", "daemon off;"],
    stdout: "null",
    stderr: "piped",
  }).spawn();
  await untilListening("nginx", port, () => child.kill("SIGKILL"));
  return {
    port,
    async [Symbol.asyncDispose]() {
      child.kill("SIGTERM");
      await child.stderr.cancel();
      await child.status;
      await Deno.remove(dir, { recursive: true });
    },
  };
}

/** A GET through nginx from a chosen loopback source address (127.0.0.2, 127.0.0.3, ...). */
function getFrom(localAddress: string, port: number, path: string, headers: Record<string, string>) {
  return new Promise<{ status: number; retryAfter?: string }>((resolve, reject) => {
    http.get({ host: "127.0.0.1", port, path, localAddress, headers, agent: false }, (res) => {
      res.resume();
      res.on(
        "end",
        () => resolve({ status: res.statusCode!, retryAfter: res.headers["retry-after"] as string }),
      );
    }).on("error", reject);
  });
}

async function proxiedGateway(rateLimit: Record<string, unknown> = {}) {
  return await realGateway({
    gateway: { auth: { mode: "password", password: PASSWORD, rateLimit }, trustedProxies: ["127.0.0.1"] },
  });
}

Deno.test({
  name:
    "behind nginx: 30 wrong passwords, then the right one, answer 429 for that client (loopback exemption is for direct callers only)",
  // CI installs nginx (.ci/run): there a missing nginx fails the test instead of skipping it.
  ignore: !NGINX && !Deno.env.get("CI"),
  async fn() {
    await using server = await proxiedGateway();
    await using nginx = await startNginx(server.port);
    const statuses: number[] = [];
    for (let i = 0; i < 30; i++) {
      statuses.push(
        (await getFrom("127.0.0.2", nginx.port, "/whoami", { authorization: `Bearer wrong-${i}` })).status,
      );
    }
    assert.deepEqual(statuses.slice(0, 10), Array(10).fill(401));
    assert.deepEqual(statuses.slice(10), Array(20).fill(429));
    const right = await getFrom("127.0.0.2", nginx.port, "/whoami", { authorization: `Bearer ${PASSWORD}` });
    assert.equal(right.status, 429);
    assert.ok(Number(right.retryAfter) > 0);
    // The gateway's own host, talking to it directly, is a different (and exempt) client.
    const direct = await fetch(`http://127.0.0.1:${server.port}/whoami`, {
      headers: { authorization: `Bearer ${PASSWORD}` },
    });
    assert.equal(direct.status, 200);
    await direct.body?.cancel();
  },
});

Deno.test({
  name:
    "behind nginx with exemptLoopback:false: locking out client a leaves client b alone, over HTTP and WebSocket",
  // CI installs nginx (.ci/run): there a missing nginx fails the test instead of skipping it.
  ignore: !NGINX && !Deno.env.get("CI"),
  async fn() {
    await using server = await proxiedGateway({ exemptLoopback: false });
    await using nginx = await startNginx(server.port);
    for (let i = 0; i < 11; i++) {
      await getFrom("127.0.0.2", nginx.port, "/whoami", { authorization: `Bearer wrong-${i}` });
    }
    const a = await getFrom("127.0.0.2", nginx.port, "/whoami", { authorization: `Bearer ${PASSWORD}` });
    assert.equal(a.status, 429);
    const b = await getFrom("127.0.0.3", nginx.port, "/whoami", { authorization: `Bearer ${PASSWORD}` });
    assert.equal(b.status, 200);
    const url = `ws://127.0.0.1:${nginx.port}`;
    const params = connectParams({ auth: { password: PASSWORD } });
    const wsA = await wsConnect(url, params, { localAddress: "127.0.0.2" });
    assert.equal((wsA.response!.error as { details: { code: string } }).details.code, "AUTH_RATE_LIMITED");
    const wsB = await wsConnect(url, params, { localAddress: "127.0.0.3" });
    assert.equal(wsB.response!.ok, true, JSON.stringify(wsB.response));
  },
});

Deno.test("hooks: the hook limiter keys on the attributed client, so one client behind the proxy cannot lock out another", async () => {
  const { hooksModule } = await import("../lib/hooks/mod.ts");
  const { channelsModule } = await import("../lib/channels/mod.ts");
  const agents = agentsModule();
  const metrics = metricsModule({ agents });
  const channels = channelsModule({ agents, metrics: metrics.recorder });
  const gateway = createGateway({
    config: {
      gateway: { auth: { mode: "token", token: TOKEN }, trustedProxies: ["10.0.0.1"] },
      hooks: { enabled: true, token: "hook-token-0123456789" },
    },
    modules: [agents, metrics, channels, hooksModule({ agents, channels, metrics: metrics.recorder })],
  });
  await gateway.start();
  const wake = (client: string, token: string) =>
    gateway.fetch(
      new Request("http://gateway.test/hooks/wake", {
        method: "POST",
        headers: {
          authorization: `Bearer ${token}`,
          "content-type": "application/json",
          "x-forwarded-for": client,
        },
        body: JSON.stringify({ text: "ping" }),
      }),
      { remoteAddress: "10.0.0.1" },
    ).then(async (r) => (await r.body?.cancel(), r.status));
  for (let i = 0; i < 20; i++) await wake("203.0.113.1", "wrong");
  assert.equal(await wake("203.0.113.1", "hook-token-0123456789"), 429);
  assert.equal(await wake("203.0.113.2", "hook-token-0123456789"), 200);
  await gateway.stop();
});

// ---------------------------------------------------------------------------------------------------
// Item 7: DNS rebinding

Deno.test("same-origin private hosts: only IP literals count as private addresses; .local and .ts.net as documented", () => {
  const refusal = (host: string) =>
    originRefusal(
      {
        remoteAddress: "127.0.0.1",
        headers: new Headers({ origin: `http://${host}`, host }),
        url: `http://${host}/`,
      },
      [],
    );
  for (const host of ["fdevil.example", "fc.example.com", "fe80.example", "10.0.0.5.nip.io"]) {
    assert.match(refusal(host) ?? "", /origin not allowed/, host);
  }
  for (
    const host of [
      "[fd00::1]",
      "[fe80::1]",
      "10.0.0.5",
      "192.168.1.2:8080",
      "100.101.102.103",
      "printer.local",
      "box.tail1234.ts.net",
    ]
  ) {
    assert.equal(refusal(host), undefined, host);
  }
});

Deno.test("browser sockets: the lockout is keyed by address, so fresh subdomains buy no fresh tries; local CLIs stay exempt", async () => {
  const gateway = await memoryGateway({ gateway: { auth: { mode: "token", token: TOKEN } } });
  for (let i = 0; i < 10; i++) {
    await connect(gateway, connectParams({ auth: { token: `guess-${i}` } }), {
      headers: { origin: `https://a${i}.evil.example` },
    });
  }
  const fresh = await connect(gateway, connectParams(), { headers: { origin: "https://zz.evil.example" } });
  assert.equal((fresh.response.error as { details: { code: string } }).details.code, "AUTH_RATE_LIMITED");
  const cli = await connect(gateway, connectParams());
  assert.equal(cli.response.ok, true, "a direct local client without Origin is not the browser's bucket");
  await gateway.stop();
});

// ---------------------------------------------------------------------------------------------------
// Item 12: contradictory auth

Deno.test("startup refuses contradictory auth with a message naming the keys", async () => {
  const refused = async (auth: Record<string, unknown>, env: Record<string, string> = {}) => {
    const gateway = createGateway({ config: { gateway: { auth } }, env });
    const error = await gateway.start().then(() => undefined, (e) => e);
    assert.ok(error, `${JSON.stringify(auth)} should be refused`);
    assert.equal(error.code, "AUTH_NOT_CONFIGURED");
    return error.message as string;
  };
  assert.match(await refused({ mode: "trusted-proxy", token: "t" }), /trusted-proxy.*gateway\.auth\.token/);
  assert.match(
    await refused({ mode: "trusted-proxy" }, { OPENCLAW_GATEWAY_TOKEN: "t" }),
    /OPENCLAW_GATEWAY_TOKEN/,
  );
  assert.match(
    await refused({ token: "t", password: "p" }),
    /gateway\.auth\.token.*gateway\.auth\.password.*gateway\.auth\.mode/,
  );
  assert.match(
    await refused({ password: "p" }, { OPENCLAW_GATEWAY_TOKEN: "t" }),
    /OPENCLAW_GATEWAY_TOKEN.*gateway\.auth\.password/,
  );
  const accepted: GatewayConfig[] = [
    { gateway: { auth: { mode: "password", token: "t", password: "p" } } },
    { gateway: { auth: { mode: "trusted-proxy", password: "p" }, trustedProxies: ["10.0.0.1"] } },
  ];
  for (const config of accepted) {
    const gateway = createGateway({ config });
    await gateway.start();
    await gateway.stop();
  }
  const running = createGateway({ config: { gateway: { auth: { token: "t" } } } });
  await running.start();
  const update = running.updateConfig({ gateway: { auth: { token: "t", password: "p" } } });
  assert.equal(update.ok, false, "a reload cannot introduce the contradiction either");
  await running.stop();
});

Deno.test("the runner exits 78 on contradictory auth, naming the keys", async () => {
  const home = await Deno.makeTempDir();
  try {
    const stateDir = join(home, ".openclaw");
    await Deno.mkdir(stateDir, { recursive: true });
    await Deno.writeTextFile(
      join(stateDir, "openclaw.json"),
      JSON.stringify({
        gateway: { mode: "local", auth: { mode: "trusted-proxy", token: "tok-0123456789" } },
      }),
    );
    const proc = spawnRunner(["gateway", "--port", String(freePort())], runnerEnv(home));
    // A runner that accepts the config would serve forever: fail fast instead of hanging.
    const started = await proc.waitFor(/gateway listening/).then(() => true, () => false);
    const code = await proc.stop("SIGKILL");
    assert.equal(started, false, "the gateway must not start");
    assert.equal(code, 78);
    assert.match(proc.stderr.join("\n"), /gateway\.auth\.mode is trusted-proxy.*gateway\.auth\.token/);
  } finally {
    await Deno.remove(home, { recursive: true });
  }
});

Deno.test("doctor reports contradictory auth with the same message the gateway refuses to start with", async () => {
  await withTempDir(async (home) => {
    await writeConfig(home, {
      gateway: {
        mode: "local",
        auth: { mode: "trusted-proxy", token: "tok-0123456789" },
        trustedProxies: ["10.0.0.1"],
      },
    });
    const { run } = recordingRunner();
    const doctor = await runOps(fakeLinuxHost(home, run), ["doctor"], { HOME: home });
    assert.match(
      doctor.out + doctor.err,
      /gateway\.auth\.mode is trusted-proxy, but a shared token is also configured/,
    );
  });
});

Deno.test("trusted-proxy: a browser Origin must still pass gateway.controlUi.allowedOrigins (trusted_proxy_origin_not_allowed)", async () => {
  const config = proxyConfig();
  config.gateway!.controlUi = { allowedOrigins: ["https://control.example.com"] };
  const gateway = await memoryGateway(config);
  const from = (origin: string) => via("203.0.113.7", "alice@example.com", { origin });
  const foreign = await ask(gateway, "10.0.0.1", from("https://evil.example"));
  assert.equal(foreign.status, 401);
  assert.equal(reasonOf(foreign.body), "trusted_proxy_origin_not_allowed");
  assert.equal((await ask(gateway, "10.0.0.1", from("https://control.example.com"))).status, 200);
  const ws = await connect(gateway, connectParams({ auth: {} }), {
    remoteAddress: "10.0.0.1",
    headers: from("https://evil.example"),
  });
  assert.equal(
    (ws.response.error as { details: { authReason: string } }).details.authReason,
    "trusted_proxy_origin_not_allowed",
  );
  await gateway.stop();
});

Deno.test("config: trustedProxies entries must be addresses or CIDRs, identityScopes must name real scopes", () => {
  const proxies = validateConfig({ gateway: { trustedProxies: ["10.0.0.0/8", "::ffff:10.0.0.0/104", "*"] } });
  assert.equal(proxies.ok, false);
  assert.match(JSON.stringify(!proxies.ok && proxies.issues), /trustedProxies.*not an IP address or CIDR/);
  const scopes = validateConfig({
    gateway: { auth: { identityScopes: { "a@example.com": ["operator.root"] } } },
  });
  assert.equal(scopes.ok, false);
  assert.equal(
    validateConfig({ gateway: { trustedProxies: ["10.0.0.0/8", "fd00::/8", "192.0.2.1"] } }).ok,
    true,
  );
});
