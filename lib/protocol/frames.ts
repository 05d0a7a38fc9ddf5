/**
 * Wire frames of protocol v4: what clients send (validated here) and helpers that build what the
 * gateway sends.
 *
 * @module
 */
import * as z from "zod";
import type { ErrorShape } from "../errors.ts";

const nonEmpty = z.string().min(1);

/** A client request frame. */
export const RequestFrameSchema = z.object({
  type: z.literal("req"),
  id: nonEmpty.max(256),
  method: nonEmpty.max(256),
  params: z.unknown().optional(),
  traceparent: z.string().max(128).optional(),
});

/** A parsed request frame. */
export type RequestFrame = z.infer<typeof RequestFrameSchema>;

const ClientInfoSchema = z.looseObject({
  id: nonEmpty,
  version: z.string().optional(),
  platform: z.string().optional(),
  mode: nonEmpty,
  displayName: z.string().optional(),
  instanceId: z.string().optional(),
  deviceFamily: z.string().optional(),
  modelIdentifier: z.string().optional(),
});

const DeviceProofSchema = z.object({
  id: nonEmpty,
  publicKey: nonEmpty,
  signature: nonEmpty,
  signedAt: z.number().int().nonnegative(),
  nonce: z.string().optional(),
});

/** `connect` params. Unknown keys are tolerated so newer clients still connect. */
export const ConnectParamsSchema = z.looseObject({
  minProtocol: z.number().int().positive(),
  maxProtocol: z.number().int().positive(),
  client: ClientInfoSchema,
  role: z.enum(["operator", "node"]).default("operator"),
  scopes: z.array(z.string()).default([]),
  caps: z.array(z.string()).optional(),
  commands: z.array(z.string()).optional(),
  permissions: z.record(z.string(), z.unknown()).optional(),
  auth: z.looseObject({
    token: z.string().optional(),
    password: z.string().optional(),
    bootstrapToken: z.string().optional(),
    /** A paired device's token sent apart from `token` (the reference client's retry after a token mismatch). */
    deviceToken: z.string().optional(),
  }).optional(),
  locale: z.string().optional(),
  userAgent: z.string().optional(),
  device: DeviceProofSchema.optional(),
});

/** Parsed `connect` params. */
export type ConnectParams = z.infer<typeof ConnectParamsSchema>;

/** A successful response frame. */
export function okFrame(id: string, payload: unknown): string {
  return JSON.stringify({ type: "res", id, ok: true, payload });
}

/** A failed response frame. */
export function errorFrame(id: string, error: ErrorShape): string {
  return JSON.stringify({ type: "res", id, ok: false, error });
}

/** An event frame; `seq` and `stateVersion` are left out when not given. */
export function eventFrame(
  event: string,
  payload: unknown,
  seq?: number,
  stateVersion?: Record<string, number>,
): string {
  return preparedEventFrame(event, payload, stateVersion)(seq);
}

/**
 * One event's frame for any `seq`: the text every socket gets, differing only in `seq`. Its parts are
 * exposed for transports that build each socket's bytes from them: `head`, then `,"seq":<seq>` when
 * there is one, then `tail`.
 */
export interface PreparedEventFrame {
  (seq?: number): string;
  /** The frame's text up to where `seq` goes. */
  readonly head: string;
  /** The frame's text after `seq`. */
  readonly tail: string;
}

/**
 * One event's frame for many sockets: only `seq` differs between them, so the payload (the costly part)
 * is stringified once and each socket's frame is a concatenation. A broadcast to 10,000 sockets would
 * otherwise stringify the same payload 10,000 times. `redactJson`, when given, is applied once to the
 * frame without `seq` and `stateVersion`: those add only numbers and fixed key names, which no
 * redaction of a JSON document touches (it replaces inside string values), so every frame built is as
 * redacted as if each had been redacted whole.
 */
export function preparedEventFrame(
  event: string,
  payload: unknown,
  stateVersion?: Record<string, number>,
  redactJson?: (json: string) => string,
): PreparedEventFrame {
  const whole = JSON.stringify({ type: "event", event, payload });
  // The object's text without its closing brace: `seq` and `stateVersion` follow, in that order.
  const head = (redactJson ? redactJson(whole) : whole).slice(0, -1);
  const tail = stateVersion ? `,"stateVersion":${JSON.stringify(stateVersion)}}` : "}";
  const frame = (seq?: number) => seq === undefined ? head + tail : `${head},"seq":${seq}${tail}`;
  return Object.assign(frame, { head, tail });
}

/** Names the first zod issue as `path: message`, for error messages people can act on. */
export function describeIssue(error: z.ZodError): string {
  const issue = error.issues[0];
  if (!issue) return "invalid value";
  const path = issue.path.map(String).join(".");
  return path ? `${path}: ${issue.message}` : issue.message;
}
