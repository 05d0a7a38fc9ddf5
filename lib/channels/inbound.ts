/**
 * What happens to a message that arrived on a channel: the sender policy decides first (an unknown
 * direct sender on a pairing channel gets a code and nothing else), then the message becomes an agent
 * turn in the chat's own session, carrying the chat as its delivery target: whichever replica runs the
 * turn sends the reply back there (`replies.ts`). A message is taken once its turn's input is durable,
 * and only then may its channel acknowledge it to the service; one whose input could not be saved for a
 * reason that may pass is answered `retry`, so the service delivers it again.
 *
 * @module
 */
import { RUNS_WAITING_LIMITED } from "../agents/scheduler.ts";
import { GatewayError } from "../errors.ts";
import type { GatewayContext } from "../types.ts";
import type { MetricsRecorder } from "../metrics/recorder.ts";
import { type AccessDecision, dmAccess, dmSettings, groupAccess } from "./access.ts";
import { BoundedSends } from "./bounded-sends.ts";
import type { ChannelPairing } from "./pairing.ts";
import type { ChannelReceiver } from "./running.ts";
import type { AgentTurns } from "./turns.ts";
import type { Channel, InboundMessage, ReceiveOutcome } from "./types.ts";

/** What inbound handling works with. */
export interface InboundOptions {
  context: GatewayContext;
  pairing: ChannelPairing;
  /** Without it messages are admitted and then dropped (channels only send). */
  turns?: AgentTurns;
  metrics?: MetricsRecorder;
}

/** What handling a message works with: the options, and where this gateway's pairing codes go out from. */
type Inbound = InboundOptions & { codes: BoundedSends };

/** The receiver every running channel hands its messages to. */
export function inboundReceiver(inbound: InboundOptions): ChannelReceiver {
  const options: Inbound = { ...inbound, codes: new BoundedSends() };
  return (channel, config, message) =>
    message.deliveryId === undefined
      ? handle(options, channel, config, message)
      : handleOnce(options, channel, config, message, message.deliveryId);
}

/** Why a claimed delivery gives its claim back: the next attempt, on any replica, handles it afresh. */
class NotTaken extends Error {}

/**
 * Handles a delivery once across the cluster, under an idempotency claim on its id: a copy handed over
 * while the first is in flight (on this replica or another poller's) or after it was taken gets the
 * first one's outcome and starts nothing; one that was not taken (`retry`) leaves the id free.
 */
async function handleOnce(
  options: Inbound,
  channel: Channel,
  config: Record<string, unknown>,
  message: InboundMessage,
  deliveryId: string,
): Promise<ReceiveOutcome> {
  try {
    return await options.context.stores.idempotency.run(
      "channel",
      `${channel.id}:${deliveryId}`,
      "",
      async () => {
        const outcome = await handle(options, channel, config, message);
        if (outcome === "retry") throw new NotTaken();
        return outcome;
      },
    );
  } catch (error) {
    if (error instanceof NotTaken) return "retry";
    const outcome = failureOutcome(error);
    options.context.logger.warn("channel delivery could not be claimed", {
      channel: channel.id,
      outcome,
      error: String(error),
    });
    return outcome;
  }
}

async function handle(
  options: Inbound,
  channel: Channel,
  config: Record<string, unknown>,
  message: InboundMessage,
): Promise<ReceiveOutcome> {
  const { logger } = options.context;
  options.metrics?.messageReceived(channel.id);
  let access: AccessDecision;
  try {
    access = await admit(options, channel, config, message);
  } catch (error) {
    // A store that cannot be read admits no one rather than everyone; the service asks again later.
    const outcome = failureOutcome(error);
    logger.warn("channel sender check failed", { channel: channel.id, outcome, error: String(error) });
    return outcome;
  }
  if (access.decision !== "allow") {
    logger.info("channel message not admitted", {
      channel: channel.id,
      sender: message.senderId,
      chat: message.chatId,
      reason: access.reason,
    });
    return "refused";
  }
  if (!options.turns) {
    logger.warn("channel message dropped: no agents module", { channel: channel.id });
    return "refused";
  }
  return await runTurn(options, options.turns, channel, config, message);
}

/**
 * The sender policy's verdict; a pairing verdict also records the request and sends the code once, in
 * the background: the request is stored already, and a slow service must not hold up receiving.
 */
async function admit(
  { context, pairing, codes }: Inbound,
  channel: Channel,
  config: Record<string, unknown>,
  message: InboundMessage,
): Promise<AccessDecision> {
  if (message.chatType === "group") {
    return groupAccess(config, message.chatId, message.senderId, message.mentioned === true);
  }
  const { dmPolicy, allowFrom } = dmSettings(channel.id, config);
  // The static list decides most messages; the approvals file is read only for senders it does not admit.
  let decision = dmAccess(dmPolicy, allowFrom, message.senderId, []);
  if (decision.decision === "pairing") {
    decision = dmAccess(dmPolicy, allowFrom, message.senderId, await pairing.approved(channel.id));
  }
  if (decision.decision !== "pairing") return decision;
  const outcome = await pairing.request(channel.id, message.senderId, {
    chatId: message.chatId,
    ...(message.senderName ? { name: message.senderName } : {}),
  });
  if (!outcome.created) {
    return { decision: "pairing", reason: outcome.code ? "pairing_pending" : "pairing_pending_cap_reached" };
  }
  context.logger.info("channel pairing requested", { channel: channel.id, sender: message.senderId });
  const text = pairingReply(channel.id, message.senderId, outcome.code);
  const started = codes.start(`${channel.id}\0${message.chatId}`, async () => {
    await channel.send({ to: message.chatId, text }).catch((error) =>
      context.logger.warn("pairing code could not be sent", { channel: channel.id, error: String(error) })
    );
  });
  if (!started) {
    context.logger.warn("pairing code not sent: too many codes on their way", {
      channel: channel.id,
      sender: message.senderId,
    });
  }
  return decision;
}

/**
 * Starts the message as a turn of the channel's agent, its reply addressed to the chat; resolves once the
 * turn's input is durable (`taken`), or with what its failure to start or to be saved means.
 */
async function runTurn(
  options: Inbound,
  turns: AgentTurns,
  channel: Channel,
  config: Record<string, unknown>,
  message: InboundMessage,
): Promise<ReceiveOutcome> {
  const { logger } = options.context;
  const agentId = typeof config.agentId === "string" ? config.agentId : undefined;
  try {
    const turn = turns.start({
      message: message.text,
      agentId,
      // One session per chat and channel, so two people (or two groups) never share a transcript.
      sessionKey: `${channel.id}:${message.chatType === "group" ? "group" : "direct"}:${message.chatId}`,
      queueOwner: `channel:${channel.id}:${message.chatId}`,
      delivery: {
        channel: channel.id,
        to: message.chatId,
        ...(message.messageId ? { replyToId: message.messageId } : {}),
      },
    });
    turn.done.then((result) => {
      if (result.status !== "error") return;
      logger.warn("channel turn failed", { channel: channel.id, runId: turn.runId, error: result.error });
    }, (error) => logger.warn("channel turn failed", { channel: channel.id, error: String(error) }));
    await turn.recorded;
    return "taken";
  } catch (error) {
    const outcome = failureOutcome(error);
    logger.warn("channel turn could not start", { channel: channel.id, outcome, error: String(error) });
    return outcome;
  }
}

/**
 * A refusal the gateway means (a bad agent, a full queue) is final; a store that could not be reached,
 * or failed in a way it did not explain, may work when the service delivers the message again.
 */
function failureOutcome(error: unknown): ReceiveOutcome {
  if (!(error instanceof GatewayError)) return "retry";
  // A chat over its queue limit is refused: asked for again, it would hold every chat's polling back.
  if (error.details?.code === RUNS_WAITING_LIMITED) return "refused";
  return error.code === "UNAVAILABLE" || error.retryable === true ? "retry" : "refused";
}

/** The only answer an unknown sender gets: who they are, their code, and what the owner runs. */
function pairingReply(channelId: string, senderId: string, code: string): string {
  return [
    "This bot only answers people its owner has approved.",
    `Your ${channelId} id: ${senderId}`,
    `Pairing code: ${code}`,
    "",
    `The owner approves it with: openclaw pairing approve ${channelId} ${code}`,
    "(the code expires in one hour)",
  ].join("\n");
}
