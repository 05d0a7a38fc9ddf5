/**
 * Agent turns for callers outside a socket (hooks, channels): start a turn in a session, learn when it
 * was admitted, and wait for its reply text.
 *
 * @module
 */
import type { AgentsModule } from "../agents/agents-module.ts";
import { targetSession } from "../agents/session-target.ts";
import type { TurnDelivery } from "../state/turn-queue.ts";

/** A turn to start. */
export interface TurnRequest {
  /** The user message that starts the turn. */
  message: string;
  /** The default agent when omitted. */
  agentId?: string;
  /** A full or short session key; the agent's main session when omitted. */
  sessionKey?: string;
  /** A `provider/model` override. */
  model?: string;
  /** Added to the agent's system prompt for this turn (e.g. the hook's safety framing). */
  extraSystemPrompt?: string;
  /** Aborting it aborts the run. */
  signal?: AbortSignal;
  /**
   * Who the turn is queued for (a chat, the hook token): that owner's waiting runs share one turn of the
   * scheduler's rotation and one `gateway.limits.maxQueuedRunsPerConnection` budget, as a socket's do.
   */
  queueOwner: string;
  /**
   * Where the reply goes: the replica that runs the turn (this one, or another one that took it over
   * from the queue) sends it there once the turn ended well.
   */
  delivery?: TurnDelivery;
}

/** How a turn ended. */
export interface TurnResult {
  /** `ok` when the agent answered, `error` when the run failed, `aborted` when it was cancelled. */
  status: "ok" | "error" | "aborted";
  /** The agent's reply text; empty when the run produced none. */
  text: string;
  /** Why the run failed, when `status` is `error`. */
  error?: string;
}

/** An admitted turn. */
export interface StartedTurn {
  /** Run id, as `agent` and `agent.wait` use it. */
  runId: string;
  /** The agent that runs the turn. */
  agentId: string;
  /** Full key of the session the turn belongs to. */
  sessionKey: string;
  /** Resolves with the outcome when the run ends. */
  done: Promise<TurnResult>;
  /**
   * Settles once the turn's input is durable (in the transcript, or queued where another replica finds
   * it); rejects when it could not be saved. Unset: nothing to wait for.
   */
  recorded?: Promise<void>;
  /**
   * Whether whoever runs the turn sends its reply to `TurnRequest.delivery` (the agents runtime's turns:
   * the replica that runs one sends it, through the channels module). Unset: the module that started the
   * turn sends it once `done` resolves well.
   */
  deliversReply?: boolean;
}

/** Starts agent turns. */
export interface AgentTurns {
  /** Throws a `GatewayError` for an unknown agent, model or bad session key. */
  start(request: TurnRequest): StartedTurn;
  /** Whether `agentId` names a configured agent. */
  hasAgent(agentId: string): boolean;
  /** Id of the agent used when a request names none. */
  defaultAgentId(): string;
  /**
   * The full key of the session a turn of `agentId` in `sessionKey` (the agent's main session when
   * omitted) runs in; throws a `GatewayError` for a bad key.
   */
  sessionKey(agentId: string, sessionKey?: string): string;
}

/** {@link AgentTurns} over the agents module's runtime. */
export function agentTurns(agents: AgentsModule): AgentTurns {
  return {
    start(request) {
      const runtime = agents.runtime();
      const target = targetSession(runtime, request.sessionKey, request.agentId);
      const handle = runtime.startTurn({
        sessionKey: target.key,
        agentId: target.agentId,
        messages: [{ role: "user", content: request.message }],
        system: request.extraSystemPrompt,
        model: request.model,
        signal: request.signal,
        queueOwner: request.queueOwner,
        delivery: request.delivery,
        // Every caller of these turns passes on outside content (a hook payload, a channel message).
        origin: { kind: "agent", external: true },
      });
      return {
        runId: handle.runId,
        agentId: handle.agentId,
        sessionKey: handle.sessionKey,
        recorded: handle.recorded,
        deliversReply: true,
        done: handle.done.then((outcome) => ({
          status: outcome.status,
          text: outcome.result?.text ?? "",
          ...(outcome.error ? { error: outcome.error.message } : {}),
        })),
      };
    },
    hasAgent(agentId) {
      try {
        agents.runtime().agents().get(agentId);
        return true;
      } catch {
        return false;
      }
    },
    defaultAgentId: () => agents.runtime().agents().defaultAgentId,
    sessionKey: (agentId, sessionKey) => targetSession(agents.runtime(), sessionKey, agentId).key,
  };
}
