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

/** An event frame. */
export interface EventFrame {
  type: "event";
  event: string;
  payload?: unknown;
  seq?: number;
  stateVersion?: unknown;
}

/** Any frame the gateway sends. */
export type ServerFrame = ResponseFrame | EventFrame;

/** `connect.params.client`. */
export interface ClientIdentity {
  id: string;
  mode: string;
  version: string;
  platform: string;
  displayName?: string;
  deviceFamily?: string;
  instanceId?: string;
}

/** The `hello-ok` payload fields the client reads; the rest is kept as sent. */
export interface HelloOk {
  type: "hello-ok";
  protocol: number;
  server: { version: string; connId: string; [key: string]: unknown };
  features: { methods: string[]; events: string[] };
  snapshot: Record<string, unknown>;
  auth: { role: string; scopes: string[]; [key: string]: unknown };
  policy: { maxPayload?: number; maxBufferedBytes?: number; tickIntervalMs?: number; [key: string]: unknown };
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
