/**
 * The protocol v4 frames a CLI client sends and reads, typed only as far as the client relies on them.
 *
 * @module
 */
import type { ErrorShape } from "../errors.ts";

/** The protocol version this client speaks. */
export const CLIENT_PROTOCOL_VERSION = 4;

/** A request frame. */
export interface RequestFrame {
  type: "req";
  id: string;
  method: string;
  params?: unknown;
}

/** A response frame: `payload` when ok, `error` otherwise. */
export interface ResponseFrame {
  type: "res";
  id: string;
  ok: boolean;
  payload?: unknown;
  error?: ErrorShape;
}

/** An event the gateway pushes to a connected client. */
export interface EventFrame {
  /** Always `event`. */
  type: "event";
  /** The event's name (`tick`, `presence`, `chat`, `agent`, `shutdown`, ...). */
  event: string;
  /** The event's data; its shape depends on `event`. */
  payload?: unknown;
  /** This socket's event counter, from 1; a gap means events were dropped for a slow reader. */
  seq?: number;
  /** The state versions the payload reflects (`{ presence, health }`), on snapshot events. */
  stateVersion?: unknown;
}

/** Any frame the gateway sends. */
export type ServerFrame = ResponseFrame | EventFrame;

/** Who the client is, sent as `connect.params.client` and shown in presence. */
export interface ClientIdentity {
  /** The client program's id, e.g. `cli` or `acme-dashboard`. */
  id: string;
  /** What kind of client it is: `cli`, `ui`, `webchat`, `backend`, `node`, `probe` or `test`. */
  mode: string;
  /** The client program's version, e.g. `1.0.0`. */
  version: string;
  /** The OS it runs on, e.g. `linux`, `darwin`, `windows`. */
  platform: string;
  /** A name for people, shown in presence instead of the id. */
  displayName?: string;
  /** The device's kind, e.g. `desktop` or `phone`. */
  deviceFamily?: string;
  /** Tells apart several running copies of the same client. */
  instanceId?: string;
}

/** The `hello-ok` payload fields the client reads; the rest is kept as sent. */
export interface HelloOk {
  /** Always `hello-ok`. */
  type: "hello-ok";
  /** The protocol version the gateway chose (4). */
  protocol: number;
  /** The gateway's version and this connection's id. */
  server: { version: string; connId: string; [key: string]: unknown };
  /** The methods the client may call and the events it may get. */
  features: { methods: string[]; events: string[] };
  /** The state at connect time: `presence`, `health`, `stateVersion`, `uptimeMs`, ... */
  snapshot: Record<string, unknown>;
  /** The role and scopes the gateway granted; calls outside them fail. */
  auth: { role: string; scopes: string[]; [key: string]: unknown };
  /** Limits for this connection: largest frame and send buffer in bytes, tick interval in ms. */
  policy: { maxPayload?: number; maxBufferedBytes?: number; tickIntervalMs?: number; [key: string]: unknown };
  /** Fields this client does not read, kept as the gateway sent them. */
  [key: string]: unknown;
}

/** Parses one text frame; anything that is not a `res` or `event` object yields `undefined`. */
export function parseServerFrame(text: string): ServerFrame | undefined {
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch {
    return undefined;
  }
  if (!value || typeof value !== "object") return undefined;
  const frame = value as { type?: unknown; id?: unknown; event?: unknown };
  if (frame.type === "res" && typeof frame.id === "string") return value as ResponseFrame;
  if (frame.type === "event" && typeof frame.event === "string") return value as EventFrame;
  return undefined;
}

/** Whether a connect response payload is a usable `hello-ok`. */
export function isHelloOk(payload: unknown): payload is HelloOk {
  if (!payload || typeof payload !== "object") return false;
  const hello = payload as Partial<HelloOk>;
  return hello.type === "hello-ok" && typeof hello.protocol === "number" && !!hello.server &&
    !!hello.auth && Array.isArray(hello.auth.scopes);
}
