// Shared test helpers: a started in-memory gateway and a scripted protocol v4 client.
import { createGateway, type Frame, type Gateway, type GatewayOptions, openMemorySocket } from "../mod.ts";
import type { MemorySocket, MemorySocketOptions } from "../mod.ts";
import type { PresenceEntry } from "../lib/state/presence.ts";
import type { GatewayStores } from "../lib/state/stores.ts";
import { agentsModule } from "../lib/agents/mod.ts";

export const TOKEN = "test-token-0123456789";

/** A started gateway with token auth and the in-memory transport only. */
export async function startGateway(options: GatewayOptions = {}): Promise<Gateway> {
  const gateway = createGateway({
    ...options,
    config: options.config ?? { gateway: { auth: { mode: "token", token: TOKEN } } },
  });
  await gateway.start();
  return gateway;
}

/** Default connect params for an operator client. */
export function connectParams(overrides: Record<string, unknown> = {}): Record<string, unknown> {
  return {
    minProtocol: 4,
    maxProtocol: 4,
    // The local backend: a device-less shared-secret client that keeps its scopes (see lib/auth/device-less-scopes.ts).
    client: { id: "gateway-client", version: "0.0.1", platform: "linux", mode: "backend" },
    role: "operator",
    scopes: ["operator.read", "operator.write"],
    auth: { token: TOKEN },
    ...overrides,
  };
}

/** A client that finished the handshake. */
export interface TestClient {
  socket: MemorySocket;
  hello: Record<string, unknown>;
  request(method: string, params?: unknown): Promise<Frame>;
}

let ids = 0;

/** Opens a socket, answers the challenge with `connect`, and returns the hello (or the error frame). */
export async function connect(
  gateway: Gateway,
  params: Record<string, unknown> = connectParams(),
  socketOptions: MemorySocketOptions = {},
): Promise<{ socket: MemorySocket; challenge: Frame; response: Frame }> {
  const socket = openMemorySocket(gateway, socketOptions);
  const challenge = await socket.next();
  socket.send({ type: "req", id: "c-1", method: "connect", params });
  const response = await socket.waitFor((f) => f.type === "res" && f.id === "c-1");
  return { socket, challenge, response };
}

/** Connects and fails the test unless `hello-ok` comes back. */
export async function client(gateway: Gateway, params?: Record<string, unknown>): Promise<TestClient> {
  const { socket, response } = await connect(gateway, params);
  if (!response.ok) throw new Error(`connect failed: ${JSON.stringify(response.error)}`);
  return {
    socket,
    hello: response.payload as Record<string, unknown>,
    async request(method, reqParams = {}) {
      const id = `r-${++ids}`;
      socket.send({ type: "req", id, method, params: reqParams });
      return await socket.waitFor((f) => f.type === "res" && f.id === id);
    },
  };
}

/** What a hello-ok's snapshot says of presence: the rows, and the version they are of. */
export interface PresenceSnapshot {
  presence: PresenceEntry[];
  stateVersion: { presence: number };
}

/** Connects a client, closes it again, and returns the snapshot its hello-ok carried. */
export async function helloSnapshot(gateway: Gateway): Promise<PresenceSnapshot> {
  const { socket, hello } = await client(gateway);
  socket.close();
  return hello.snapshot as PresenceSnapshot;
}

const tempRoots: string[] = [];
globalThis.addEventListener("unload", () => {
  for (const root of tempRoots) {
    try {
      Deno.removeSync(root, { recursive: true });
    } catch { /* already gone */ }
  }
});

/** A temp dir removed when the test process exits, for tests that hand the path to code they do not await. */
export async function tempDir(prefix = "openclaw-test-"): Promise<string> {
  const root = await Deno.makeTempDir({ prefix });
  tempRoots.push(root);
  return root;
}

/** The text of a `chat.history` message: user lines carry a string (as the reference sends them), others parts. */
export function historyText(message: { content: string | { text?: string }[] }): string {
  return typeof message.content === "string"
    ? message.content
    : message.content.map((p) => p.text ?? "").join("");
}

/** Polls `check` every 20 ms until it holds (it may ask a store); throws naming `what` after `ms`. */
export async function pollUntil(
  check: () => boolean | Promise<boolean>,
  ms: number,
  what: string,
): Promise<void> {
  const end = Date.now() + ms;
  while (!(await check())) {
    if (Date.now() >= end) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 20));
  }
}

/** A started gateway on `stores` whose agents answer with the built-in scripted model (a turn ends at once). */
export async function scriptedGateway(stores: GatewayStores): Promise<Gateway> {
  return await startGateway({
    config: {
      gateway: { auth: { mode: "token", token: TOKEN } },
      agents: { defaults: { model: { primary: "local/scripted-1" } } },
    },
    stores,
    modules: [agentsModule({ peers: stores.peers })],
  });
}

let calls = 0;

/**
 * Sends `method` with `params` on `socket`; resolves with the call's last answer (an `agent` call's final,
 * past its `accepted` ack), an error included.
 */
export function lastAnswer(
  socket: MemorySocket,
  method: string,
  params: Record<string, unknown>,
  timeoutMs = 10_000,
): Promise<Frame> {
  const id = `call-${++calls}`;
  socket.send({ type: "req", id, method, params });
  return socket.waitFor(
    (f) =>
      f.type === "res" && f.id === id &&
      (!f.ok || (f.payload as { status?: unknown })?.status !== "accepted"),
    timeoutMs,
  );
}
