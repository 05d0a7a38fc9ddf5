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
import type { Logger } from "../log/logger.ts";
import type { TurnDelivery } from "../state/turn-queue.ts";
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

/** A {@link ReplySend} over `send`, which throws when the channel refuses the message. */
export function replySender(
  send: (delivery: TurnDelivery, text: string) => Promise<void>,
  logger: Logger,
): ReplySend {
  return async ({ runId, delivery, text }) => {
    try {
      await send(delivery, text);
    } catch (error) {
      logger.warn("channel reply failed", { channel: delivery.channel, runId, error: String(error) });
    }
  };
}

/** Sends the replies of `runtime`'s turns that name a delivery target; returns the unsubscribe. */
export function sendReplies(runtime: Pick<AgentRuntime, "onRunEvent">, send: ReplySend): () => void {
  return runtime.onRunEvent((run, event) => {
    if (event.type !== "end" || !run.delivery) return;
    const text = event.outcome.result?.text ?? "";
    if (event.outcome.status !== "ok" || !text.trim()) return;
    send({ runId: run.runId, delivery: run.delivery, text });
  });
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
