/**
 * The one shape every WS method has: a name, the scope it needs, a zod schema for its params (and
 * optionally its result), and a handler that receives params already validated and typed. The core's
 * methods and an embedder's are declared the same way and go through the same registry.
 *
 * @example Declaring a method
 * ```ts
 * import { z } from "zod";
 * import { defineMethod } from "./descriptor.ts";
 *
 * const greet = defineMethod({
 *   name: "app.greet",
 *   scope: "operator.read",
 *   params: z.strictObject({ name: z.string().min(1) }),
 *   handler: ({ params }) => ({ hello: params.name }),
 * });
 * ```
 *
 * @module
 */
import * as z from "zod";
import type { MethodScope } from "../protocol/scopes.ts";
import type { IdempotencyClaim } from "../state/idempotency.ts";
import type { InferInput, InferOutput, StandardSchemaV1 } from "./standard-schema.ts";

/** What a connected client said about itself in `connect.params.client`. */
export interface ClientInfo {
  /** The client's id (`openclaw-control-ui`, `cli`, ...). */
  id: string;
  /** How the client runs (`ui`, `cli`, `backend`, ...). */
  mode: string;
  /** The client's own version. */
  version?: string;
  /** The OS or runtime the client runs on. */
  platform?: string;
  /** A name to show for it. */
  displayName?: string;
  /** The device family (`desktop`, `iPhone`, ...). */
  deviceFamily?: string;
  /** The device's model identifier. */
  modelIdentifier?: string;
  /** Tells apart several instances of one client on one device. */
  instanceId?: string;
}

/** Who is calling: an authenticated socket, an HTTP request, or the embedding app itself. */
export interface CallerIdentity {
  /** `connId` for sockets; `http:<n>` for HTTP calls; `internal` for in-process calls. */
  connId: string;
  /** Operators manage the gateway; nodes only run what it hands them. */
  role: "operator" | "node";
  /** The scopes granted at connect (or by the HTTP credential). */
  scopes: readonly string[];
  /** What the client said about itself, for sockets. */
  client?: ClientInfo;
  /** The paired device, when the caller proved one. */
  deviceId?: string;
  /** How the caller proved itself: `token`, `password`, `trusted-proxy`, `device-token`, `none`, `internal`. */
  authMethod: string;
  /** The client's address as the gateway attributes it. */
  remoteAddress?: string;
}

/** One method invocation as a handler sees it. */
export interface MethodCall {
  /** The request id (echoed in the response). */
  id: string;
  /** The method name. */
  method: string;
  /** The params; for a {@link MethodDescriptor} handler, the output of its `params` schema. */
  params: unknown;
  /** Who is calling. */
  caller: CallerIdentity;
  /** Aborted when the caller disconnects or the gateway stops. */
  signal: AbortSignal;
  /**
   * Sends an early `res` (the first stage of a two-stage call, e.g. `agent`'s `accepted` ack). The
   * handler's return value still becomes the final `res` with the same id.
   */
  ack(payload: unknown): void;
  /** Sends an event frame to this caller only (no-op for callers without a socket). */
  sendEvent(event: string, payload: unknown): void;
  /**
   * The idempotency claim the call runs under, when it carries an `idempotencyKey` and its method runs
   * ahead of the claim ({@link MethodDescriptor.aheadOfClaim}): until `won`, the call may be a duplicate.
   */
  claim?: IdempotencyClaim;
  /**
   * The request's fingerprint (`requestFingerprint`: method and params but the key), when it carries an
   * `idempotencyKey`: what a retry of it repeats, and another request reusing its key does not.
   */
  fingerprint?: string;
}

/** A {@link MethodCall} whose params passed the method's schema. */
export type ValidatedCall<P> = Omit<MethodCall, "params"> & { readonly params: P };

/**
 * A WS method. The registry parses `params` (absent params count as `{}`) before `handler` runs and
 * answers a mismatch with `INVALID_REQUEST` in the reference's wording; `result` documents the payload
 * and is checked by tests, not on every call.
 */
export interface MethodDescriptor<
  P extends StandardSchemaV1 = StandardSchemaV1,
  R extends StandardSchemaV1 = StandardSchemaV1,
> {
  /** The method name clients send (`sessions.list`). */
  readonly name: string;
  /** The scope a caller needs; `none` for methods anyone connected may call. */
  readonly scope: MethodScope;
  /**
   * The params schema, any Standard Schema (zod's, valibot's, ...); use {@link anyParams} for a method that
   * reads none. A zod schema's problems are worded as the reference gateway words them.
   */
  readonly params: P;
  /**
   * The result schema, checked when the gateway runs with `checkResults` (tests). Prefer `z.object` over
   * a strict one: a payload may carry more than the schema names.
   */
  readonly result?: R;
  /**
   * A keyed call (`idempotencyKey`) may start before the store answered its claim, so its first store
   * commands share the claim's round trip. Only for a handler that keeps every lasting effect behind
   * `call.claim` (waits for `won`, or writes under its `guard`): a duplicate must start nothing.
   */
  readonly aheadOfClaim?: boolean;
  /** Runs the call with validated params; throw a `GatewayError` to answer with an error. */
  // Method syntax keeps descriptors with different params assignable to one table.
  handler(call: ValidatedCall<InferOutput<P>>): InferInput<R> | Promise<InferInput<R>>;
}

/** Any registered method, whatever its schemas. */
export type AnyMethod = MethodDescriptor<StandardSchemaV1, StandardSchemaV1>;

/**
 * Declares a method; the identity function that lets TypeScript infer the params and result types.
 *
 * @example A method of the app's own, called in process
 * ```ts
 * import { z } from "zod";
 * import { createGateway, defineMethod, GatewayError } from "@openclaw-ts/gateway";
 *
 * const gateway = createGateway({ config: { gateway: { auth: { token: "s3cret" } } } });
 * gateway.registerMethod(defineMethod({
 *   name: "app.add",
 *   scope: "operator.read",
 *   params: z.strictObject({ a: z.number(), b: z.number() }),
 *   result: z.object({ sum: z.number() }),
 *   handler: ({ params }) => ({ sum: params.a + params.b }),
 * }));
 * await gateway.start();
 *
 * const answer = await gateway.call("app.add", { a: 2, b: 3 });
 * if ((answer as { sum: number }).sum !== 5) throw new Error(JSON.stringify(answer));
 * const refused = await gateway.call("app.add", { a: 2 }).catch((error) => error);
 * if (!(refused instanceof GatewayError) || refused.code !== "INVALID_REQUEST") throw refused;
 * await gateway.stop();
 * ```
 */
export function defineMethod<
  P extends StandardSchemaV1,
  R extends StandardSchemaV1 = StandardSchemaV1<unknown>,
>(
  method: MethodDescriptor<P, R>,
): MethodDescriptor<P, R> {
  return method;
}

/** The params schema of a method that reads no params: anything is accepted and ignored. */
export const anyParams: StandardSchemaV1<unknown> = z.unknown();

/**
 * Optional fields of any value, one per name: the params the reference defines that a method accepts and
 * ignores. Listed in a strict schema, they let real clients' fields through while a typo is still refused.
 */
export function ignoredParams<const K extends string>(
  ...names: K[]
): Record<K, z.ZodOptional<z.ZodUnknown>> {
  return Object.fromEntries(names.map((name) => [name, z.unknown().optional()])) as Record<
    K,
    z.ZodOptional<z.ZodUnknown>
  >;
}
