/**
 * The WS methods that start, await and stop runs: two-stage `agent`, `agent.wait`, `chat.send`,
 * `chat.abort`.
 *
 * @module
 */
import { z } from "zod";
import { GatewayError, missingScope } from "../errors.ts";
import { scopeSatisfied } from "../protocol/scopes.ts";
import type { GatewayContext, MethodCall } from "../types.ts";
import type { AgentCatalog } from "./catalog.ts";
import { parseParams } from "./params.ts";
import { publishSessionsChanged } from "./run-events.ts";
import type { RunOutcome } from "./runs.ts";
import type { AgentRuntime, RunHandle } from "./runtime.ts";
import { splitModelRef } from "./rows.ts";
import {
  assertCallerSessionKey,
  canonicalSessionKey,
  mainSessionKey,
  type SessionTarget,
} from "./session-keys.ts";

/** `agent.wait` waits this long when the caller sets no `timeoutMs`. */
export const DEFAULT_WAIT_TIMEOUT_MS = 30_000;

// Loose: the protocol defines many more fields (delivery, channels, lanes); they are accepted and ignored.
const AgentParams = z.looseObject({
  message: z.string().min(1),
  idempotencyKey: z.string().min(1),
  agentId: z.string().min(1).optional(),
  sessionKey: z.string().min(1).optional(),
  provider: z.string().optional(),
  model: z.string().optional(),
  extraSystemPrompt: z.string().optional(),
});

const AgentWaitParams = z.object({
  runId: z.string().min(1),
  timeoutMs: z.number().int().nonnegative().optional(),
});

const ChatSendParams = z.looseObject({
  sessionKey: z.string().min(1).max(512),
  message: z.string(),
  idempotencyKey: z.string().min(1),
  agentId: z.string().min(1).optional(),
});

const ChatAbortParams = z.looseObject({
  sessionKey: z.string().min(1),
  agentId: z.string().min(1).optional(),
  runId: z.string().min(1).optional(),
});

/** Resolves the session a WS call names: its key, else the agent's main session. */
export function targetSession(
  runtime: AgentRuntime,
  sessionKey: string | undefined,
  agentId: string | undefined,
): SessionTarget {
  return sessionTargetIn(runtime.agents(), sessionKey, agentId);
}

/** {@link targetSession} against a given set of agents. */
export function sessionTargetIn(
  agents: AgentCatalog,
  sessionKey: string | undefined,
  agentId: string | undefined,
): SessionTarget {
  const fallbackAgent = agentId ?? agents.defaultAgentId;
  const target = sessionKey
    ? canonicalSessionKey(sessionKey, fallbackAgent)
    : { agentId: fallbackAgent, key: mainSessionKey(fallbackAgent) };
  if (agentId && target.agentId !== agentId) {
    throw new GatewayError(
      "INVALID_REQUEST",
      `session '${target.key}' belongs to agent '${target.agentId}', not '${agentId}'`,
    );
  }
  agents.get(target.agentId);
  assertCallerSessionKey(target);
  return target;
}

/** The final `agent` result, shaped as the reference sends it. */
function agentFinal(outcome: RunOutcome): Record<string, unknown> {
  const usage = outcome.result?.usage;
  const final: Record<string, unknown> = {
    runId: outcome.runId,
    status: outcome.status === "ok" ? "ok" : "error",
    summary: outcome.status === "ok" ? "completed" : outcome.error?.message ?? "run failed",
    result: {
      payloads: outcome.result?.text ? [{ text: outcome.result.text }] : [],
      meta: {
        durationMs: outcome.endedAt - outcome.startedAt,
        agentMeta: {
          sessionId: outcome.sessionId,
          ...(outcome.model ? splitModelRef(outcome.model) : {}),
          ...(usage
            ? { usage: { input: usage.inputTokens, output: usage.outputTokens, total: usage.totalTokens } }
            : {}),
        },
      },
    },
  };
  if (outcome.error) final.error = outcome.error;
  return final;
}

/**
 * Waits until a turn's message is on disk, so an acknowledged message survives a crash; a failed write
 * becomes a retryable error instead of an acknowledgement. Only for turns that start at once: a turn
 * queued behind other runs is written when it starts, and waiting would hold the answer for the queue.
 */
async function savedOrUnavailable(handle: RunHandle): Promise<void> {
  await handle.recorded.catch((error) => {
    // The code (ENOSPC, EROFS, ...) says what an operator must fix; the path stays in the gateway log.
    const code = (error as { code?: unknown })?.code;
    const cause = typeof code === "string" ? code : "storage error";
    throw new GatewayError(
      "UNAVAILABLE",
      `could not save the message (${cause}); nothing was sent, retry later`,
      {
        retryable: true,
      },
    );
  });
}

/** Runs share the agent per connection; the embedding app's own in-process calls are not queued as one. */
function queueOwner(call: MethodCall): string | undefined {
  return call.caller.authMethod === "internal" ? undefined : call.caller.connId;
}

/** `/new` and `/reset` start a fresh session instead of a turn; that is an admin action. */
function isResetCommand(message: string): boolean {
  return /^\/(new|reset)\s*$/i.test(message.trim());
}

/**
 * Registers `agent`, `agent.wait`, `chat.send` and `chat.abort`. Retries with the same
 * `idempotencyKey` are answered by the core's idempotency store, so they never start a second run.
 */
export function registerRunMethods(
  context: GatewayContext,
  runtime: AgentRuntime,
): void {
  context.registerMethod("agent", "operator.write", async (call: MethodCall) => {
    const params = parseParams(AgentParams, "agent", call.params);
    const target = targetSession(runtime, params.sessionKey, params.agentId);
    if (isResetCommand(params.message)) {
      if (!scopeSatisfied(call.caller.scopes, "operator.admin")) throw missingScope("operator.admin");
      const entry = await runtime.resetSession(target.key, target.agentId);
      publishSessionsChanged(context.bus, target.key, "reset", context.now());
      const runId = crypto.randomUUID();
      call.ack({ runId, status: "accepted", acceptedAt: context.now() });
      return {
        runId,
        status: "ok",
        summary: "session reset",
        result: { payloads: [], meta: { sessionId: entry.sessionId } },
      };
    }
    const model = params.provider && params.model ? `${params.provider}/${params.model}` : params.model;
    const handle = runtime.startTurn({
      sessionKey: target.key,
      agentId: target.agentId,
      messages: [{ role: "user", content: params.message }],
      system: params.extraSystemPrompt,
      model,
      origin: { kind: "agent", connId: call.caller.connId },
      queueOwner: queueOwner(call),
    });
    if (!handle.waiting) await savedOrUnavailable(handle);
    call.ack({ runId: handle.runId, status: "accepted", acceptedAt: handle.acceptedAt });
    return agentFinal(await handle.done);
  });

  context.registerMethod("agent.wait", "operator.write", (call) => {
    const params = parseParams(AgentWaitParams, "agent.wait", call.params);
    return runtime.wait(params.runId, params.timeoutMs ?? DEFAULT_WAIT_TIMEOUT_MS);
  });

  context.registerMethod("chat.send", "operator.write", async (call) => {
    const params = parseParams(ChatSendParams, "chat.send", call.params);
    if (!params.message.trim()) {
      throw new GatewayError("INVALID_REQUEST", "chat.send needs a non-empty message");
    }
    const target = targetSession(runtime, params.sessionKey, params.agentId);
    const handle = runtime.startTurn({
      sessionKey: target.key,
      agentId: target.agentId,
      messages: [{ role: "user", content: params.message }],
      origin: { kind: "chat", connId: call.caller.connId },
      queueOwner: queueOwner(call),
    });
    if (!handle.waiting) await savedOrUnavailable(handle);
    return { runId: handle.runId, status: "started" };
  });

  context.registerMethod("chat.abort", "operator.write", async (call) => {
    const params = parseParams(ChatAbortParams, "chat.abort", call.params);
    const target = targetSession(runtime, params.sessionKey, params.agentId);
    const runIds = await runtime.abort(target.key, params.runId);
    return { ok: true, aborted: runIds.length > 0, runIds };
  });
}
