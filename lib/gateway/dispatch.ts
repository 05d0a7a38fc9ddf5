/**
 * Method dispatch: refuses new calls while stopping, counts calls in flight so `stop()` can drain them,
 * and runs calls that carry an `idempotencyKey` at most once (a retry gets the first outcome).
 *
 * @module
 */
import { GatewayError } from "../errors.ts";
import { DEFAULT_OPERATOR_SCOPES } from "../protocol/scopes.ts";
import { IdempotencyConflict, requestFingerprint } from "../state/idempotency.ts";
import type { CallerIdentity, MethodCall } from "../types.ts";
import type { GatewayCore } from "./core.ts";

/** The caller `Gateway.call` uses by default: full operator scopes, in-process. */
export const INTERNAL_CALLER: CallerIdentity = {
  connId: "internal",
  role: "operator",
  scopes: DEFAULT_OPERATOR_SCOPES,
  authMethod: "internal",
};

/** Dispatches method calls and tracks those in flight. */
export interface Dispatcher {
  /** Runs one call as `caller`; `io` carries the early ack and events back to where the call came from. */
  dispatch(
    caller: CallerIdentity,
    id: string,
    method: string,
    params: unknown,
    signal: AbortSignal,
    io: { ack(payload: unknown): void; sendEvent(event: string, payload: unknown): void },
  ): Promise<unknown>;
  /** Waits for in-flight calls to finish, at most `ms`. */
  drain(ms: number): Promise<void>;
}

/** Creates the dispatcher over the registry, the idempotency store and the gateway phase. */
export function createDispatcher(
  { state, registry, stores: { idempotency } }: Pick<GatewayCore, "state" | "registry" | "stores">,
): Dispatcher {
  let inflight = 0;
  let drained: (() => void) | undefined;

  const dispatch: Dispatcher["dispatch"] = (caller, id, method, params, signal, io) => {
    const key = typeof (params as { idempotencyKey?: unknown })?.idempotencyKey === "string"
      ? (params as { idempotencyKey: string }).idempotencyKey
      : undefined;
    if (state.phase === "stopping") {
      return Promise.reject(
        new GatewayError("UNAVAILABLE", "gateway is stopping; retry after it restarts", { retryable: true }),
      );
    }
    const call: MethodCall = { id, method, params, caller, signal, ...io };
    inflight++;
    const settle = () => {
      if (--inflight === 0) drained?.();
    };
    try {
      if (!key) return registry.dispatch(call).finally(settle);
      // Authorize before consulting the store so a caller without the scope cannot read another's result.
      const def = registry.authorize(method, caller);
      const ahead = "aheadOfClaim" in def && def.aheadOfClaim === true;
      return replayable(key, call, ahead).finally(settle);
    } catch (error) {
      settle();
      return Promise.reject(error);
    }
  };

  /**
   * Runs a keyed call at most once. A retry gets the original outcome, including the two-stage ack, so
   * a client that reconnected mid-run still sees `accepted` before the final result.
   */
  const replayable = async (key: string, call: MethodCall, ahead: boolean): Promise<unknown> => {
    // Set once this call holds the key: its own ack went out, and what the store returns is its outcome.
    let ranHere = false;
    // Keys are global, across callers (a reconnected client's retry must find its run) and across
    // methods (a key may become a run id, which must stay unique), so a replay goes only to a request
    // identical to the first: same method, same session, same message. Anything else sent with a used
    // key is refused, never answered with another caller's run.
    const fingerprint = await requestFingerprint({ method: call.method, params: call.params });
    // In a namespace of its own: a client's key never names a record another surface (hooks) keeps, and
    // another surface's flood of keys never evicts the outcomes of method calls.
    const record = await idempotency.run("rpc", key, fingerprint, async (claim) => {
      // A claim without a guard is won already (a store that answers at once).
      const pending = claim.guard !== undefined;
      if (pending) claim.won.then((won) => ranHere ||= won, () => {});
      else ranHere = true;
      let ack: { payload: unknown } | undefined;
      const result = await registry.dispatch({
        ...call,
        ...(pending ? { claim } : {}),
        fingerprint,
        ack(payload) {
          ack = { payload };
          // A call started ahead of its claim acks only once it holds the key: a duplicate's ack is the first's.
          if (ranHere) call.ack(payload);
          else claim.won.then((won) => won && call.ack(payload), () => {});
        },
      });
      return { ack, result };
    }, { ahead }).catch((error) => {
      if (!(error instanceof IdempotencyConflict)) throw error;
      throw new GatewayError(
        "INVALID_REQUEST",
        `${call.method}: this idempotencyKey was already used for a different request; send it with a new key`,
        {
          details: {
            reason: call.method === "chat.send" ? "chat-request-conflict" : "idempotency-key-conflict",
          },
        },
      );
    });
    if (!ranHere && record.ack) call.ack(record.ack.payload);
    return record.result;
  };

  /** Waits for in-flight calls to finish, at most `ms`. */
  const drain = (ms: number) =>
    inflight === 0 ? Promise.resolve() : new Promise<void>((resolve) => {
      const timer = setTimeout(resolve, ms);
      drained = () => {
        clearTimeout(timer);
        // A macrotask later, so the last call's response frame is written before sockets close.
        setTimeout(resolve, 0);
      };
    });

  return { dispatch, drain };
}
