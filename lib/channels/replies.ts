/**
 * Replies to channel messages and hook deliveries: a turn that carries a delivery target (the chat a
 * message came from, a hook's recipient) has its reply sent there by the replica whose runtime ran it.
 * Exactly one replica runs a turn: the one that started it at once, or the one that moved its waiting
 * input out of the turn queue (the replica that queued it, or the one that took over once it died), so
 * the reply goes out once wherever the message was accepted. Every replica runs every configured channel's
 * outbound side; only receiving (Telegram polling) is a cluster singleton.
 *
 * @module
 */
import type { AgentRuntime } from "../agents/runtime.ts";
import type { MetricsRecorder } from "../metrics/recorder.ts";
import type { GatewayContext } from "../types.ts";
import { type RunningChannels, sendCounted } from "./running.ts";

/** Sends the replies of `runtime`'s turns that name a delivery target; returns the unsubscribe. */
export function sendReplies(
  runtime: Pick<AgentRuntime, "onRunEvent">,
  channels: RunningChannels,
  context: GatewayContext,
  metrics?: MetricsRecorder,
): () => void {
  const { logger } = context;
  return runtime.onRunEvent((run, event) => {
    if (event.type !== "end" || !run.delivery) return;
    const text = event.outcome.result?.text ?? "";
    if (event.outcome.status !== "ok" || !text.trim()) return;
    const { channel: channelId, to, replyToId } = run.delivery;
    const channel = channels.get(channelId);
    if (!channel) {
      logger.warn("reply not sent: its channel is not running here", {
        channel: channelId,
        runId: run.runId,
      });
      return;
    }
    sendCounted(channel, { to, text, ...(replyToId ? { replyToId } : {}) }, context, metrics).catch((error) =>
      logger.warn("channel reply failed", { channel: channelId, runId: run.runId, error: String(error) })
    );
  });
}
