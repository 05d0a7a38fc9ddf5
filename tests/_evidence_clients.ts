// Real loopback clients for evidence tests: a started gateway on port 0, a raw `ws` session that records
// frames, close codes and refused upgrades, and a well-behaved client that proves the gateway still serves.
import WebSocket from "ws";
import { createGateway, type Gateway, type GatewayOptions } from "../mod.ts";
import { denoTransport } from "../deno.ts";
import { connectParams, TOKEN } from "./_helpers.ts";

/** A gateway listening on a free loopback port. */
export interface LoopbackGateway {
  gateway: Gateway;
  port: number;
  url: string;
  [Symbol.asyncDispose](): Promise<void>;
}

/** Starts a gateway with token auth on `127.0.0.1:0` (Deno transport unless `options.transport` says otherwise). */
export async function loopbackGateway(options: GatewayOptions = {}): Promise<LoopbackGateway> {
  const gateway = createGateway({
    transport: denoTransport(),
    port: 0,
    hostname: "127.0.0.1",
    ...options,
    config: options.config ?? { gateway: { auth: { mode: "token", token: TOKEN } } },
  });
  const address = await gateway.start();
  return {
    gateway,
    port: address!.port,
    url: `ws://127.0.0.1:${address!.port}`,
    [Symbol.asyncDispose]: () => gateway.stop(),
  };
}

type Json = Record<string, unknown>;

/** One raw client socket and everything that happened to it. */
export interface WsSession {
  ws: WebSocket;
  frames: Json[];
  /** Resolves with the close code and reason, or with `refused` when the upgrade got an HTTP status. */
  ended: Promise<{ code?: number; reason?: string; refused?: number }>;
  /** The first frame (seen or future) matching `predicate`; rejects after `timeoutMs`. */
  waitFor(predicate: (frame: Json) => boolean, timeoutMs?: number): Promise<Json>;
  /** Sends a request and waits for its response. */
  request(method: string, params?: unknown, timeoutMs?: number): Promise<Json>;
}

let ids = 0;

/** Opens a raw socket; nothing is sent until the caller sends it. */
export function wsSession(url: string, headers: Record<string, string> = {}): WsSession {
  const ws = new WebSocket(url, { headers });
  const frames: Json[] = [];
  const wake = new Set<() => void>();
  ws.on("message", (data) => {
    try {
      frames.push(JSON.parse(String(data)));
    } catch {
      frames.push({ unparsable: String(data).slice(0, 100) });
    }
    wake.forEach((w) => w());
  });
  ws.on("error", () => {});
  const ended = new Promise<{ code?: number; reason?: string; refused?: number }>((resolve) => {
    ws.on("close", (code, reason) => resolve({ code, reason: reason.toString() }));
    ws.on("unexpected-response", (_req, res) => {
      resolve({ refused: res.statusCode });
      res.resume();
      ws.terminate();
    });
  });
  const waitFor = (predicate: (frame: Json) => boolean, timeoutMs = 5000) =>
    new Promise<Json>((resolve, reject) => {
      const check = () => {
        const hit = frames.find(predicate);
        if (!hit) return;
        clearTimeout(timer);
        wake.delete(check);
        resolve(hit);
      };
      const timer = setTimeout(() => {
        wake.delete(check);
        reject(
          new Error(`no matching frame within ${timeoutMs} ms; got ${JSON.stringify(frames).slice(0, 300)}`),
        );
      }, timeoutMs);
      wake.add(check);
      check();
    });
  return {
    ws,
    frames,
    ended,
    waitFor,
    request(method, params = {}, timeoutMs) {
      const id = `q-${++ids}`;
      ws.send(JSON.stringify({ type: "req", id, method, params }));
      return waitFor((f) => f.type === "res" && f.id === id, timeoutMs);
    },
  };
}

/** Opens a socket and completes the handshake; resolves with the session and the connect response. */
export async function handshake(
  url: string,
  params: Json = connectParams(),
  headers: Record<string, string> = {},
): Promise<{ session: WsSession; response: Json }> {
  const session = wsSession(url, headers);
  await session.waitFor((f) => f.event === "connect.challenge");
  const response = await session.request("connect", params);
  return { session, response };
}

/** Connects a fresh well-behaved client, calls `health`, and hangs up; throws unless it all works. */
export async function assertServes(url: string): Promise<void> {
  const { session, response } = await handshake(url);
  if (!response.ok) throw new Error(`well-behaved client refused: ${JSON.stringify(response.error)}`);
  const health = await session.request("health");
  if (!health.ok) throw new Error(`health failed: ${JSON.stringify(health.error)}`);
  session.ws.close();
  await session.ended;
}

/** Waits until `check()` holds, polling. */
export async function until(check: () => boolean, what: string, timeoutMs = 10_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!check()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 20));
  }
}

/** {@link until} for a check that has to ask an async store. */
export async function untilAsync(
  check: () => Promise<boolean>,
  what: string,
  timeoutMs = 10_000,
): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await check())) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 20));
  }
}

export { TOKEN };

/** A self-signed certificate for 127.0.0.1 (not a CA: rustls refuses one as a server's own), made with `openssl` in `dir`. */
export async function selfSignedCert(
  dir: string,
): Promise<{ certPath: string; keyPath: string; cert: string }> {
  const certPath = `${dir}/cert.pem`;
  const keyPath = `${dir}/key.pem`;
  const subject = ["-subj", "/CN=127.0.0.1", "-addext", "subjectAltName=IP:127.0.0.1"];
  const { code, stderr } = await new Deno.Command("openssl", {
    args: [
      "req",
      "-x509",
      "-newkey",
      "rsa:2048",
      "-nodes",
      "-days",
      "1",
      ...subject,
      "-addext",
      "basicConstraints=critical,CA:FALSE",
      "-keyout",
      keyPath,
      "-out",
      certPath,
    ],
    stdout: "null",
    stderr: "piped",
  }).output();
  if (code !== 0) throw new Error(new TextDecoder().decode(stderr));
  return { certPath, keyPath, cert: Deno.readTextFileSync(certPath) };
}
