/**
 * The node methods: `node.list` and `node.describe` (read) show connected nodes; `node.invoke` (write;
 * admin for the browser and file relays) runs a command on one; a node answers with `node.invoke.result`
 * and reports with `node.event`. Params are closed objects, as protocol.schema.json has them; results,
 * errors and their wording are the reference's.
 *
 * @module
 */
import * as z from "zod";
import type { GatewayConfig } from "../config/schema.ts";
import { GatewayError, missingScope } from "../errors.ts";
import { type AnyMethod, defineMethod } from "../methods/descriptor.ts";
import { NODE_ROLE_SCOPE, scopeSatisfied } from "../protocol/scopes.ts";
import type { NodeStore } from "../state/nodes.ts";
import { ADMIN_ONLY_COMMANDS, commandRefusal } from "./command-policy.ts";
import { DEFAULT_INVOKE_TIMEOUT_MS, type InvokeOutcome, type NodeInvoker } from "./invoke.ts";
import type { NodeRegistry } from "./registry.ts";
import { nodeRow, sortNodes } from "./rows.ts";

const id = z.string().min(1);

const NodeInvokeParams = z.strictObject({
  nodeId: id,
  command: id,
  params: z.unknown().optional(),
  timeoutMs: z.number().int().nonnegative().optional(),
  idempotencyKey: id,
  sessionKey: id.optional(),
  turnSourceChannel: z.string().optional(),
  turnSourceTo: z.string().optional(),
  turnSourceAccountId: z.string().optional(),
  turnSourceThreadId: z.union([z.string(), z.number()]).optional(),
});

/** What `node.invoke` takes, as the agent tools build it too. */
export type NodeInvokeInput = z.input<typeof NodeInvokeParams>;

// Older nodes send `payloadJSON`/`error` as null; the reference drops those before validating.
const NodeInvokeResultParams = z.preprocess(
  (value) => {
    if (typeof value !== "object" || value === null) return value;
    const params = { ...value } as Record<string, unknown>;
    if (params.payloadJSON === null) delete params.payloadJSON;
    if (params.error === null) delete params.error;
    return params;
  },
  z.strictObject({
    id,
    nodeId: id,
    ok: z.boolean(),
    payload: z.unknown().optional(),
    payloadJSON: z.string().optional(),
    error: z.strictObject({ code: id.optional(), message: id.optional() }).optional(),
  }),
);

const NodeEventParams = z.strictObject({
  event: id,
  payload: z.unknown().optional(),
  payloadJSON: z.string().optional(),
});

const PresenceAlive = z.object({
  trigger: z.enum([
    "background",
    "silent_push",
    "bg_app_refresh",
    "significant_location",
    "manual",
    "connect",
  ]),
});

/** What the methods need besides their params. */
export interface NodeMethodsDeps {
  store: NodeStore;
  registry: NodeRegistry;
  invoker: NodeInvoker;
  config(): GatewayConfig;
  now(): number;
}

/** `node.list`, `node.describe`, `node.invoke`, `node.invoke.result` and `node.event`. */
export function nodeMethods(deps: NodeMethodsDeps): AnyMethod[] {
  return [
    defineMethod({
      name: "node.list",
      scope: "operator.read",
      params: z.strictObject({}),
      handler: async () => ({ ts: deps.now(), nodes: sortNodes(await deps.store.list()).map(nodeRow) }),
    }),
    defineMethod({
      name: "node.describe",
      scope: "operator.read",
      params: z.strictObject({ nodeId: id }),
      handler: async ({ params }) => {
        const node = await deps.store.get(params.nodeId.trim());
        if (!node) throw new GatewayError("INVALID_REQUEST", "unknown nodeId");
        return { ts: deps.now(), ...nodeRow(node) };
      },
    }),
    defineMethod({
      name: "node.invoke",
      scope: "operator.write",
      params: NodeInvokeParams,
      handler: ({ params, caller, signal }) => invokeNode(deps, params, caller.scopes, signal),
    }),
    defineMethod({
      name: "node.invoke.result",
      scope: NODE_ROLE_SCOPE,
      params: NodeInvokeResultParams,
      handler: ({ params, caller }) => {
        if ((caller.deviceId ?? caller.client?.id) !== params.nodeId) {
          throw new GatewayError("INVALID_REQUEST", "nodeId mismatch");
        }
        return deps.invoker.result(caller.connId, params) ? { ok: true } : { ok: true, ignored: true };
      },
    }),
    defineMethod({
      name: "node.event",
      scope: NODE_ROLE_SCOPE,
      params: NodeEventParams,
      result: z.object({ ok: z.boolean(), event: z.string(), handled: z.boolean(), reason: z.string() }),
      handler: async ({ params, caller }) => {
        const answer = (handled: boolean, reason: string) => ({
          ok: true,
          event: params.event,
          handled,
          reason,
        });
        // The reference acts on many node events (voice transcripts, agent requests, exec notices); this
        // gateway acts on the liveness report and says which others it left alone.
        if (params.event !== "node.presence.alive") return answer(false, "unsupported_event");
        const alive = PresenceAlive.safeParse(eventPayload(params));
        if (!alive.success) return answer(false, "invalid_payload");
        const seen = await deps.registry.seen(caller.connId, alive.data.trigger);
        return seen ? answer(true, "persisted") : answer(false, "missing_device_identity");
      },
    }),
  ];
}

/** `node.invoke`: checks the caller, the node and the command policy, then waits for the node's answer. */
async function invokeNode(
  deps: NodeMethodsDeps,
  params: z.output<typeof NodeInvokeParams>,
  scopes: readonly string[],
  signal: AbortSignal,
): Promise<Record<string, unknown>> {
  const nodeId = params.nodeId.trim();
  const command = params.command.trim();
  if (command.startsWith("worker.")) {
    throw new GatewayError("INVALID_REQUEST", "node.invoke does not allow private node controls", {
      details: { command },
    });
  }
  if (command === "system.execApprovals.get" || command === "system.execApprovals.set") {
    throw new GatewayError(
      "INVALID_REQUEST",
      "node.invoke does not allow system.execApprovals.*; use exec.approvals.node.*",
      { details: { command } },
    );
  }
  if (ADMIN_ONLY_COMMANDS.has(command) && !scopeSatisfied(scopes, "operator.admin")) {
    throw missingScope("operator.admin");
  }
  const node = await deps.store.get(nodeId);
  if (!node) {
    const nodeError = { code: "NOT_CONNECTED", message: "node not connected" };
    throw new GatewayError("UNAVAILABLE", "node not connected", {
      details: { code: "NOT_CONNECTED", nodeError, nodeCommandDispatched: false },
    });
  }
  const refusal = commandRefusal(deps.config(), node, command);
  if (refusal) {
    throw new GatewayError("INVALID_REQUEST", refusal.message, {
      details: { reason: refusal.reason, command },
    });
  }
  const outcome = await deps.invoker.invoke({
    node,
    command,
    params: params.params,
    timeoutMs: params.timeoutMs ?? DEFAULT_INVOKE_TIMEOUT_MS,
    idempotencyKey: params.idempotencyKey,
    sessionKey: params.sessionKey?.trim() || undefined,
  }, signal);
  if (!outcome.ok) throw invokeFailure(outcome);
  const payload = outcome.payloadJSON ? parsePayload(outcome.payloadJSON) : outcome.payload;
  return { ok: true, nodeId, command, payload, payloadJSON: outcome.payloadJSON ?? null };
}

/** The reference's answer to a failed invoke: `UNAVAILABLE`, the node's code leading its message. */
function invokeFailure(outcome: InvokeOutcome): GatewayError {
  const code = outcome.error?.code?.trim() ?? "";
  const text = outcome.error?.message?.trim() || "node invoke failed";
  return new GatewayError("UNAVAILABLE", code ? `${code}: ${text}` : text, {
    details: { nodeError: outcome.error ?? null, nodeCommandDispatched: true },
  });
}

/** A node's `payloadJSON`, parsed; text that is not JSON comes back wrapped, as the reference does. */
function parsePayload(json: string): unknown {
  try {
    return JSON.parse(json);
  } catch {
    return { payloadJSON: json };
  }
}

function eventPayload(params: z.output<typeof NodeEventParams>): unknown {
  if (params.payloadJSON === undefined) return params.payload;
  try {
    return JSON.parse(params.payloadJSON);
  } catch {
    return undefined;
  }
}
