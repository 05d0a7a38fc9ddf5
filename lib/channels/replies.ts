/**
 * Replies to channel messages and hook deliveries: a turn that carries a delivery target (the chat a
 * message came from, a hook's recipient) has its reply sent there by the replica whose runtime ran it.
 * Exactly one replica runs a turn: the one that started it at once, or the one that moved its waiting
 * input out of the turn queue (the replica that queued it, or the one that took over once it died), so
 * the reply goes out once wherever the message was accepted. Every replica runs every configured channel's
 * outbound side; only receiving (Telegram polling) is a cluster singleton. Turns an embedder runs itself
 * (`channelsModule({ turns })`, `hooksModule({ turns })`) are answered by the module that started them,
 * from the turn's `done` ({@link replyingTurns}).
 *
 * @module
 */
import type { AgentRuntime } from "../agents/runtime.ts";
import type { LiveRuns } from "../agents/runs.ts";
import type { TurnDelivery } from "../state/turn-queue.ts";
import type { GatewayContext } from "../types.ts";
import type { AgentTurns } from "./turns.ts";

/** A reply to send: the text a turn ended with, and where it goes. */
export interface Reply {
  /** The run that produced it, for the logs. */
  runId: string;
  /** Where it goes. */
  delivery: TurnDelivery;
  /** The reply text. */
  text: string;
}

/** Sends a reply; never rejects (a reply that could not be sent is logged). */
export type ReplySend = (reply: Reply) => Promise<void>;

/** Attempts at one reply, the first included. */
export const REPLY_ATTEMPTS = 4;
/** A reply is given up once its next attempt would start later than this after its first. */
export const REPLY_RETRY_BUDGET_MS = 60_000;
/** The wait before the first retry when the service names none; doubled for each retry after it. */
const FIRST_RETRY_MS = 1_000;

/**
 * A {@link ReplySend} over `send`, which throws when the channel refuses the message. What the service
 * refuses for a moment (429, 5xx, a network error) is tried again after the wait it asks for or a
 * doubling backoff, within {@link REPLY_ATTEMPTS} and {@link REPLY_RETRY_BUDGET_MS}; then the reply is
 * given up, logged with its channel and chat.
 */
export function replySender(
  send: (delivery: TurnDelivery, text: string) => Promise<void>,
  context: Pick<GatewayContext, "logger" | "now">,
): ReplySend {
  const { logger } = context;
  return async ({ runId, delivery, text }) => {
    const first = context.now();
    for (let attempt = 1;; attempt++) {
      try {
        return await send(delivery, text);
      } catch (error) {
        const wait = retryDelay(error, attempt);
        const fields = { channel: delivery.channel, chat: delivery.to, runId, attempt, error: String(error) };
        const late = wait !== undefined && context.now() + wait - first > REPLY_RETRY_BUDGET_MS;
        if (wait === undefined || attempt >= REPLY_ATTEMPTS || late) {
          return logger.warn("channel reply not sent; giving up", fields);
        }
        logger.info("channel reply refused for now; retrying", { ...fields, retryInMs: wait });
        await new Promise((resolve) => setTimeout(resolve, wait));
      }
    }
  };
}

/**
 * How long to wait before sending again after `error` (the service's `retryAfterMs` when it names one),
 * or `undefined` when sending again cannot help: a refusal other than 429 or 5xx (an error's HTTP
 * `status`), or an error that is not a network failure (`fetch` rejects with a `TypeError`). A timeout is
 * not retried: the service may have taken the message, and the chat would get it twice.
 */
function retryDelay(error: unknown, attempt: number): number | undefined {
  const { status, retryAfterMs } = (error ?? {}) as { status?: unknown; retryAfterMs?: unknown };
  const transient = typeof status === "number" ? status === 429 || status >= 500 : error instanceof TypeError;
  if (!transient) return undefined;
  return typeof retryAfterMs === "number" && retryAfterMs >= 0
    ? retryAfterMs
    : FIRST_RETRY_MS * 2 ** (attempt - 1);
}

/**
 * Sends the replies of `runtime`'s turns that name a delivery target. Returns the stop, which lets go of
 * the runtime only once the turns that were running here with a delivery target, and the runs waiting
 * behind them in their sessions, have ended: the runtime runs them on after the gateway stopped (a restart
 * in place), and their messages were acknowledged long ago. Every run ends by its agent's timeout, which
 * bounds the wait.
 */
export function sendReplies(runtime: Pick<AgentRuntime, "onRunEvent" | "runs">, send: ReplySend): () => void {
  /** The session of every run with a delivery target under way here, by run id. */
  const running = new Map<string, string>();
  const unsubscribe = runtime.onRunEvent((run, event) => {
    if (!run.delivery) return;
    if (event.type === "start") running.set(run.runId, run.sessionKey);
    if (event.type !== "end") return;
    running.delete(run.runId);
    const text = event.outcome.result?.text ?? "";
    if (event.outcome.status !== "ok" || !text.trim()) return;
    const reply = { runId: run.runId, delivery: run.delivery, text };
    // Sent once the run is done here, its session's lease given back: a replica that dies right after
    // answering then leaves the chat's next message no lease to wait out.
    const live = runtime.runs.active(run.sessionKey).find((r) => r.runId === run.runId);
    if (live) live.done.then(() => send(reply), () => send(reply));
    else send(reply);
  });
  return () => void drained(runtime.runs, running).then(unsubscribe);
}

/** Resolves once no run of this process is left in the sessions of `running`. */
async function drained(runs: LiveRuns, running: ReadonlyMap<string, string>): Promise<void> {
  for (;;) {
    const live = [...new Set(running.values())].flatMap((sessionKey) => runs.active(sessionKey));
    if (!live.length) return;
    await Promise.allSettled(live.map((run) => run.done));
  }
}

/**
 * `turns`, with the reply of every turn that names a delivery target and whose runner does not send it
 * itself (`StartedTurn.deliversReply` unset) sent by `send` once the turn ended well.
 */
export function replyingTurns(turns: AgentTurns, send: ReplySend): AgentTurns {
  return {
    hasAgent: (agentId) => turns.hasAgent(agentId),
    defaultAgentId: () => turns.defaultAgentId(),
    sessionKey: (agentId, sessionKey) => turns.sessionKey(agentId, sessionKey),
    start(request) {
      const turn = turns.start(request);
      const { delivery } = request;
      if (delivery && !turn.deliversReply) {
        turn.done.then(({ status, text }) => {
          if (status === "ok" && text.trim()) send({ runId: turn.runId, delivery, text });
        }, () => {});
      }
      return turn;
    },
  };
}
