/**
 * The WebSocket opening handshake (RFC 6455 §4.2): checks the request, lets the gateway admit or refuse
 * it, answers 101 and hands the connection to an {@link EngineWebSocket}. No extension is negotiated
 * (permessage-deflate would let a small frame inflate past the size limits).
 *
 * @module
 */
import type { GatewayServerHandler } from "../../ws/wire.ts";
import type { Connection } from "./connection.ts";
import type { RequestHead } from "./http1-parser.ts";
import { closingAnswer, writeResponse } from "./http1-response.ts";
import { writeAll } from "./read-buffer.ts";
import { buildRequest } from "./request.ts";
import { EngineWebSocket } from "./websocket-socket.ts";

const GUID = "258EAFA5-E914-47DA-95CA-C5AB0DC85B11";
const KEY = /^[A-Za-z0-9+/]{22}==$/;
const encoder = new TextEncoder();

function field(head: RequestHead, name: string): string | undefined {
  return head.fields.find(([n]) => n === name)?.[1];
}

/** `Sec-WebSocket-Accept` for `key`. */
async function acceptValue(key: string): Promise<string> {
  const digest = new Uint8Array(await crypto.subtle.digest("SHA-1", encoder.encode(key + GUID)));
  return btoa(String.fromCharCode(...digest));
}

/** Why the handshake is malformed, or undefined when it is well formed. */
function handshakeProblem(head: RequestHead): [number, string, Headers?] | undefined {
  const key = field(head, "sec-websocket-key");
  const connection = field(head, "connection")?.toLowerCase() ?? "";
  if (head.method !== "GET" || head.bodyLength !== 0 || !/(^|[\s,])upgrade($|[\s,])/.test(connection)) {
    return [400, "invalid WebSocket upgrade request"];
  }
  if (!key || !KEY.test(key)) return [400, "invalid Sec-WebSocket-Key"];
  if (field(head, "sec-websocket-version") !== "13") {
    return [426, "unsupported WebSocket version", new Headers({ "sec-websocket-version": "13" })];
  }
}

/**
 * Answers an upgrade request on `connection`: its socket, handed to the gateway and ready to `run`, or
 * undefined when the upgrade was refused. The caller runs the socket: an async function's suspended frame
 * keeps every local it has, and this one's (the request, its headers) must not live as long as the socket.
 */
export async function acceptUpgrade(
  handler: GatewayServerHandler,
  connection: Connection,
  head: RequestHead,
  origin: string,
  graceMs: number,
): Promise<EngineWebSocket | undefined> {
  const { conn, input, info } = connection;
  const problem = handshakeProblem(head);
  const request = problem ? undefined : buildRequest(head, origin, undefined);
  if (!request) {
    const [status, message, headers] = problem ?? [400, "invalid request target"];
    await writeAll(conn, closingAnswer(status, message, headers)).catch(() => {});
    return undefined;
  }
  // Hashed before admission: admitting and accepting in one turn keeps the gateway's pre-auth count exact.
  const accept = await acceptValue(field(head, "sec-websocket-key")!);
  const refused = handler.admitUpgrade(request, info);
  if (refused) {
    await writeResponse(conn, refused, { headOnly: false, close: true });
    return undefined;
  }
  const socket = new EngineWebSocket(conn, input, graceMs, connection);
  connection.socket = socket;
  socket.writeRaw(encoder.encode(
    "HTTP/1.1 101 Switching Protocols\r\nupgrade: websocket\r\nconnection: Upgrade\r\n" +
      `sec-websocket-accept: ${accept}\r\n\r\n`,
  ));
  socket.attach(
    handler.acceptSocket(socket, {
      remoteAddress: info.remoteAddress,
      headers: request.headers,
      url: request.url,
    }),
  );
  return socket;
}
