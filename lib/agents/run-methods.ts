/**
 * The WS methods that start, await and stop runs: two-stage `agent`, `agent.wait`, `chat.send`,
 * `chat.abort`.
 *
 * @module
 */
import * as z from "zod";
import { GatewayError, missingScope } from "../errors.ts";
import { scopeSatisfied } from "../protocol/scopes.ts";
import { type AnyMethod, defineMethod, ignoredParams, type ValidatedCall } from "../methods/descriptor.ts";
import type { GatewayContext } from "../types.ts";
import { publishSessionsChanged } from "./run-events.ts";
import type { RunOutcome, StoredRun } from "../state/runs.ts";
import type { IdempotencyClaim } from "../state/idempotency.ts";
import type { AgentRuntime, RunHandle, TurnInput } from "./runtime.ts";
import { splitModelRef } from "./rows.ts";
import { targetSession } from "./session-target.ts";
import { endedRun, unlessRan } from "./standing-run.ts";

/** `agent.wait` waits this long when the caller sets no `timeoutMs`. */
export const DEFAULT_WAIT_TIMEOUT_MS = 30_000;

// Strict, as the reference's schemas are. The protocol's other fields (delivery, channels, lanes; those of
// the published schema and those the 2026.9.6 gateway added) are accepted and ignored, so a client's real
// fields pass and a typo is refused.
const AgentParams = z.strictObject({
  message: z.string().min(1),
  idempotencyKey: z.string().min(1),
  agentId: z.string().min(1).optional(),
  sessionKey: z.string().min(1).optional(),
  provider: z.string().optional(),
  model: z.string().optional(),
  extraSystemPrompt: z.string().optional(),
  ...ignoredParams(
    "to",
    "replyTo",
    "sessionId",
    "expectedExistingSessionId",
    "thinking",
    "deliver",
    "attachments",
    "channel",
    "replyChannel",
    "accountId",
    "replyAccountId",
    "threadId",
    "groupId",
    "groupChannel",
    "groupSpace",
    "timeout",
    "bestEffortDeliver",
    "lane",
    "cwd",
    "cleanupBundleMcpOnRunEnd",
    "modelRun",
    "promptMode",
    "bootstrapContextMode",
    "bootstrapContextRunKind",
    "acpTurnSource",
    "internalRuntimeHandoffId",
    "internalExecutionIdentityRetry",
    "internalExecutionIdentityRecoveryAttempt",
    "execApprovalFollowupExpectedSessionId",
    "internalEvents",
    "inputProvenance",
    "suppressPromptPersistence",
    "sessionEffects",
    "sourceReplyDeliveryMode",
    "disableMessageTool",
    "swarmCollector",
    "swarmOutputSchema",
    "forceRestartSafeTools",
    "forceCodeModeTools",
    "voiceWakeTrigger",
    "label",
  ),
});

const AgentWaitParams = z.strictObject({
  runId: z.string().min(1),
  timeoutMs: z.number().int().nonnegative().optional(),
});

const ChatSendParams = z.strictObject({
  sessionKey: z.string().min(1).max(512),
  message: z.string(),
  idempotencyKey: z.string().min(1),
  agentId: z.string().min(1).optional(),
  ...ignoredParams(
    "sessionId",
    "intent",
    "thinking",
    "fastMode",
    "fastAutoOnSeconds",
    "queueMode",
    "deliver",
    "originatingChannel",
    "originatingTo",
    "originatingAccountId",
    "originatingThreadId",
    "replyToId",
    "attachments",
    "toolBindings",
    "timeoutMs",
    "systemInputProvenance",
    "systemProvenanceReceipt",
    "suppressCommandInterpretation",
    "expectedLeafEntryId",
    "expectedSessionRoutingContract",
    "expectedPermissionMode",
    "expectedToolOverrides",
    "mentions",
    "workContext",
  ),
});

const ChatAbortParams = z.strictObject({
  sessionKey: z.string().min(1),
  agentId: z.string().min(1).optional(),
  runId: z.string().min(1).optional(),
  ...ignoredParams("preserveSideRuns"),
});

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
 * Waits until a turn's message is durable (in the transcript, or in the turn queue for a turn that waits
 * for its session), so an acknowledged message survives a crash; a failed write becomes a retryable error
 * instead of an acknowledgement.
 */
async function savedOrUnavailable(handle: RunHandle): Promise<void> {
  await handle.recorded.catch((error) => {
    // A store that already said what is wrong (Redis unreachable) is passed on as it said it.
    if (error instanceof GatewayError && error.retryable) throw error;
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
function queueOwner(call: ValidatedCall<unknown>): string | undefined {
  return call.caller.authMethod === "internal" ? undefined : call.caller.connId;
}

/** `/new` and `/reset` start a fresh session instead of a turn; that is an admin action. */
function isResetCommand(message: string): boolean {
  return /^\/(new|reset)\s*$/i.test(message.trim());
}

/** A keyed call's turn as started, or the earlier run its key names, which the call stands for. */
type Started = { handle: RunHandle; earlier?: undefined } | { handle?: undefined; earlier: StoredRun };

/**
 * Starts a keyed call's turn, unless its key was used before and the run its key names ended
 * (`agents/standing-run.ts`). The turn is then a duplicate, which leaves no trace (the store's guards
 * refuse what it sent ahead while its claim is unconfirmed), and that run is what the call answers with.
 */
async function startUnlessRan(
  context: GatewayContext,
  runtime: AgentRuntime,
  input: TurnInput & { runId: string },
): Promise<Started> {
  const { claim } = input;
  if (!claim) {
    // A store that answers at once keeps its records in process, like the run store it comes with: the
    // key, new to it, may have been pushed out of it (its cap, its TTL), and the look costs no round trip.
    const earlier = await endedRun(context.stores.runs, input);
    return earlier ? { earlier } : { handle: runtime.startTurn(input) };
  }
  const ran = Promise.withResolvers<StoredRun | undefined>();
  const handle = runtime.startTurn({ ...input, claim: unlessRan(claim, ran.promise) });
  ran.resolve(
    usedBefore(claim, handle).then((used) => used ? lookAfterLapse(context, claim, input) : undefined),
  );
  const earlier = await ran.promise;
  return earlier ? { earlier } : { handle };
}

/**
 * Whether the key of a won claim was used before: the store says its claim lapsed, or, for a key pushed
 * out of the store's order (its cap, its expiry), the run store refused the turn's first record because
 * a record of the run id was there (`RunStore.putIfClaimed`, which marks the claim as lapsed then). Both
 * answers come in the claim's round trip.
 */
async function usedBefore(claim: IdempotencyClaim, handle: RunHandle): Promise<boolean> {
  if (await claim.lapsed) return true;
  return await claim.won && await handle.recordRefused === true;
}

/**
 * The run a claim that followed a lapsed one stands for, if it ended (`endedRun`); if not, the claim is
 * confirmed, so the turn's writes (refused so far) land from now on.
 */
async function lookAfterLapse(
  context: GatewayContext,
  claim: IdempotencyClaim,
  turn: TurnInput & { runId: string },
): Promise<StoredRun | undefined> {
  const run = await endedRun(context.stores.runs, turn);
  if (run || !claim.confirm || await claim.confirm()) return run;
  throw new GatewayError("UNAVAILABLE", "the call's idempotency claim was lost; retry", { retryable: true });
}

/**
 * `agent`, `agent.wait`, `chat.send` and `chat.abort`. Retries with the same `idempotencyKey` are
 * answered by the core's idempotency store, or from the run their key names (`agents/standing-run.ts`),
 * so they never start a second run.
 */
export function runMethods(
  context: GatewayContext,
  runtime: AgentRuntime,
): AnyMethod[] {
  const agent = defineMethod({
    name: "agent",
    scope: "operator.write",
    params: AgentParams,
    // A turn keeps its effects behind the claim (TurnInput.claim); a reset waits for it.
    aheadOfClaim: true,
    handler: async (call) => {
      const { params } = call;
      const target = targetSession(runtime, params.sessionKey, params.agentId);
      if (isResetCommand(params.message)) {
        if (!scopeSatisfied(call.caller.scopes, "operator.admin")) throw missingScope("operator.admin");
        if (call.claim && !await call.claim.won) throw new GatewayError("UNAVAILABLE", "a duplicate call");
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
      const { handle, earlier } = await startUnlessRan(context, runtime, {
        sessionKey: target.key,
        agentId: target.agentId,
        messages: [{ role: "user", content: params.message }],
        system: params.extraSystemPrompt,
        model,
        origin: { kind: "agent", connId: call.caller.connId },
        queueOwner: queueOwner(call),
        runId: params.idempotencyKey,
        claim: call.claim,
        request: call.fingerprint,
      });
      if (earlier) {
        call.ack({ runId: earlier.runId, status: "accepted", acceptedAt: earlier.acceptedAt });
        return agentFinal(await runtime.outcomeOf(earlier));
      }
      await savedOrUnavailable(handle);
      call.ack({ runId: handle.runId, status: "accepted", acceptedAt: handle.acceptedAt });
      return agentFinal(await handle.done);
    },
  });

  const agentWait = defineMethod({
    name: "agent.wait",
    scope: "operator.write",
    params: AgentWaitParams,
    handler: ({ params }) => runtime.wait(params.runId, params.timeoutMs ?? DEFAULT_WAIT_TIMEOUT_MS),
  });

  const chatSend = defineMethod({
    name: "chat.send",
    scope: "operator.write",
    params: ChatSendParams,
    result: z.object({ runId: z.string(), status: z.literal("started") }),
    // The turn keeps its effects behind the claim (TurnInput.claim).
    aheadOfClaim: true,
    handler: async (call) => {
      const { params } = call;
      if (!params.message.trim()) {
        throw new GatewayError("INVALID_REQUEST", "chat.send needs a non-empty message");
      }
      const target = targetSession(runtime, params.sessionKey, params.agentId);
      const { handle, earlier } = await startUnlessRan(context, runtime, {
        sessionKey: target.key,
        agentId: target.agentId,
        messages: [{ role: "user", content: params.message }],
        origin: { kind: "chat", connId: call.caller.connId },
        queueOwner: queueOwner(call),
        runId: params.idempotencyKey,
        claim: call.claim,
        request: call.fingerprint,
      });
      // The earlier run was started: its caller was told so, and so is this one.
      if (earlier) return { runId: earlier.runId, status: "started" as const };
      await savedOrUnavailable(handle);
      return { runId: handle.runId, status: "started" as const };
    },
  });

  const chatAbort = defineMethod({
    name: "chat.abort",
    scope: "operator.write",
    params: ChatAbortParams,
    result: z.object({ ok: z.literal(true), aborted: z.boolean(), runIds: z.array(z.string()) }),
    handler: async ({ params }) => {
      const target = targetSession(runtime, params.sessionKey, params.agentId);
      const runIds = await runtime.abort(target.key, params.runId);
      return { ok: true as const, aborted: runIds.length > 0, runIds };
    },
  });

  return [agent, agentWait, chatSend, chatAbort];
}
