/**
 * The channels module: builds channels from `channels.*`, starts and stops them with the gateway and on
 * config reload, turns inbound messages into agent turns and sends the replies back, serves channel
 * webhooks under `/channels/<id>/`, and answers `channels.status` (with `probe`) and the health section.
 * Every inbound message passes the sender policy first (`access.ts`); unknown direct senders on a
 * pairing channel get a code and nothing else, and `channels.pairing.*` lets an operator approve them.
 *
 * @module
 */
import * as z from "zod";
import type { AgentsModule } from "../agents/agents-module.ts";
import { AGENT_RUNTIME, CHANNEL_DELIVERY } from "../agents/service.ts";
import { GatewayError, missingScope } from "../errors.ts";
import { defineMethod } from "../methods/descriptor.ts";
import type { MetricsRecorder } from "../metrics/recorder.ts";
import { scopeSatisfied } from "../protocol/scopes.ts";
import type { FetchLike } from "../providers/types.ts";
import type { GatewayContext, GatewayModule } from "../types.ts";
import { dmSettings } from "./access.ts";
import { inboundReceiver } from "./inbound.ts";
import {
  ChannelPairing,
  PAIRING_MAX_PENDING,
  PAIRING_TTL_MS,
  type PairingRequest,
  pairingRequestId,
} from "./pairing.ts";
import { replyingTurns, replySender, sendReplies } from "./replies.ts";
import { channelsRoute } from "./route.ts";
import { channelSummary, RunningChannels, sendCounted } from "./running.ts";
import { DEFAULT_ACCOUNT_ID } from "./status.ts";
import { type AgentTurns, agentTurns } from "./turns.ts";
import type { Channel, ChannelFactory, ChannelProbe } from "./types.ts";

/**
 * Channel ids this gateway knows how to run, each with the import of its factory: a kind's module loads only
 * when a configured channel of that kind starts (channels are off by default).
 */
export const BUILTIN_CHANNELS: Readonly<Record<string, () => Promise<ChannelFactory>>> = {
  telegram: () => import("./telegram.ts").then((module) => module.telegramChannel),
  webhook: () => import("./webhook.ts").then((module) => module.webhookChannel),
};

const DEFAULT_PROBE_TIMEOUT_MS = 10_000;

/** Options for {@link channelsModule}. */
export interface ChannelsModuleOptions {
  /** Inbound messages become turns of these agents; without it channels only send. */
  agents?: AgentsModule;
  /**
   * Overrides how turns start (tests, embedders without the agents module). The module sends the reply of
   * each turn these start to the chat its message came from once the turn's `done` resolves with `ok` and
   * some text, unless the turn sends it itself (`StartedTurn.deliversReply`, as `agentTurns()`'s do: the
   * agents runtime's replies are sent by the replica that runs the turn).
   */
  turns?: AgentTurns;
  /** Counts channel messages in and out; from `metricsModule().recorder`. */
  metrics?: MetricsRecorder;
  /** What channels call the outside world with; defaults to the global `fetch`. */
  fetch?: FetchLike;
  /** Extra or replacement channel factories by id. */
  factories?: Record<string, ChannelFactory>;
}

/** The channels module; hooks use `send` for delivery. */
export interface ChannelsModule extends GatewayModule {
  /** Sends `text` to `to` on a running channel; throws `INVALID_REQUEST` for unknown channels. */
  send(channelId: string, to: string, text: string): Promise<void>;
  /** Whether a channel (and account) is configured and enabled. */
  has(channelId: string, accountId?: string): boolean;
}

const StatusParams = z.object({
  probe: z.boolean().optional(),
  timeoutMs: z.number().int().min(0).optional(),
  channel: z.string().min(1).optional(),
}).strict();

const PairingListParams = z.object({
  channel: z.string().min(1).optional(),
  accountId: z.string().min(1).optional(),
}).strict();

const PairingDismissParams = z.object({
  channel: z.string().min(1),
  accountId: z.string().min(1),
  requestId: z.string().min(1),
}).strict();

const PairingApproveParams = PairingDismissParams.extend({
  notify: z.boolean().optional(),
  bootstrapCommandOwner: z.boolean().optional(),
}).strict();

/**
 * Creates the channels module: starts the configured channels (`channels.<id>`), routes their inbound
 * HTTP under `/channels/<id>/`, serves `channels.status` and the `channels.pairing.*` methods, and sends
 * replies and hook deliveries.
 *
 * @example A configured webhook channel, as `channels.status` reports it
 * ```ts
 * import { agentsModule, channelsModule, createGateway } from "@openclaw-ts/gateway";
 *
 * const agents = agentsModule();
 * const gateway = createGateway({
 *   config: {
 *     gateway: { auth: { token: "s3cret" } },
 *     channels: { webhook: { secret: "webhook-s3cret", outboundUrl: "https://replies.invalid/in" } },
 *   },
 *   modules: [agents, channelsModule({ agents })],
 * });
 * await gateway.start();
 *
 * const status = await gateway.call("channels.status", {}) as {
 *   channels: Record<string, { running: boolean }>;
 * };
 * if (!status.channels.webhook.running) throw new Error(JSON.stringify(status));
 * await gateway.stop();
 * ```
 */
export function channelsModule(options: ChannelsModuleOptions = {}): ChannelsModule {
  const factories = { ...BUILTIN_CHANNELS, ...options.factories };
  /** The factories channels start from: the given ones, and each built-in one once its module is imported. */
  const loaded: Record<string, ChannelFactory> = { ...options.factories };
  const channels = new RunningChannels({
    factories: loaded,
    fetch: options.fetch,
    metrics: options.metrics,
  });
  return {
    name: "channels",
    send: (channelId, to, text) => channels.send(channelId, to, text),
    has: (channelId, accountId) => channels.has(channelId, accountId),
    async setup(ctx) {
      const pairing = new ChannelPairing(ctx.stores.docs, () => ctx.now());
      /** The channels as the gateway's stop found them: replies of turns still running go out through them. */
      let stopped: Map<string, Channel> | undefined;
      const reply = replySender(({ channel: id, to, replyToId }, text) => {
        const channel = stopped?.get(id) ?? channels.orThrow(id);
        return sendCounted(channel, { to, text, ...(replyToId ? { replyToId } : {}) }, ctx, options.metrics);
      }, ctx);
      const turns = options.turns
        ? replyingTurns(options.turns, reply)
        : options.agents && agentTurns(options.agents);
      channels.attach(ctx, inboundReceiver({ context: ctx, pairing, turns, metrics: options.metrics }));
      registerChannelMethods(ctx, { channels, pairing, factories });
      // Replies of every turn this replica runs that names a channel recipient, its own or taken over.
      let stopReplies: (() => void) | undefined;
      ctx.whenProvided(AGENT_RUNTIME, (runtime) => stopReplies = sendReplies(runtime, reply));
      ctx.provide(CHANNEL_DELIVERY, {
        has: (id) => channels.has(id),
        send: (id, to, text) => channels.send(id, to, text),
      });
      ctx.addHealthSection(() => channels.health());
      ctx.addReadinessCheck("channels", () => channels.readiness());
      ctx.registerRoute(channelsRoute(channels));
      const reconcile = async () => {
        await loadBuiltins(ctx.config().channels, loaded);
        await channels.reconcile();
      };
      ctx.onConfigChange(() => {
        reconcile().catch((error) => ctx.logger.error("channel reload failed", { error: String(error) }));
      });
      ctx.onStop(async () => {
        stopped = new Map([...channels.entries()].map(([id, { channel }]) => [id, channel]));
        await channels.stopAll();
        stopReplies?.();
      });
      await reconcile();
    },
  };
}

/** Adds to `factories` the built-in factory of each channel the `channels` config turns on, importing it. */
async function loadBuiltins(config: unknown, factories: Record<string, ChannelFactory>): Promise<void> {
  for (const [id, entry] of Object.entries((config ?? {}) as Record<string, { enabled?: unknown } | null>)) {
    if (BUILTIN_CHANNELS[id] && !factories[id] && entry?.enabled !== false) {
      factories[id] = await BUILTIN_CHANNELS[id]();
    }
  }
}

/** What the `channels.*` methods work with. */
interface MethodDeps {
  channels: RunningChannels;
  pairing: ChannelPairing;
  /** The channel ids this gateway knows (built in or given). */
  factories: Readonly<Record<string, unknown>>;
}

// Every method this module registers, in one place.
function registerChannelMethods(ctx: GatewayContext, deps: MethodDeps): void {
  const { channels, pairing } = deps;
  const statusMethod = defineMethod({
    name: "channels.status",
    scope: "operator.read",
    params: StatusParams,
    handler: ({ params }) => status(ctx, channels, params),
  });
  const list = defineMethod({
    name: "channels.pairing.list",
    scope: "operator.pairing",
    params: PairingListParams,
    handler: async ({ params }) => {
      const accounts = pairingAccounts(deps, params.channel, params.accountId);
      const requests = [];
      for (const channel of accounts) {
        for (const request of await pairing.pending(channel.id)) {
          requests.push(await publicRequest(channel, request));
        }
      }
      return {
        accounts: accounts.map((channel) => ({
          channel: channel.id,
          channelLabel: channel.label,
          accountId: DEFAULT_ACCOUNT_ID,
          notifySupported: true,
        })),
        requests,
        // This gateway keeps no command owners (`commands.ownerAllowFrom`), so there is none configured.
        commandOwnerConfigured: false,
        limits: { pendingPerAccount: PAIRING_MAX_PENDING, ttlMs: PAIRING_TTL_MS },
      };
    },
  });
  // The reference's scope is dynamic: asking to make the sender a command owner also needs admin.
  const approve = defineMethod({
    name: "channels.pairing.approve",
    scope: "operator.pairing",
    params: PairingApproveParams,
    handler: async (call) => {
      const { params } = call;
      if (params.bootstrapCommandOwner && !scopeSatisfied(call.caller.scopes, "operator.admin")) {
        throw missingScope("operator.admin", ["operator.pairing", "operator.admin"]);
      }
      const channel = pairingAccountOrThrow(deps, params.channel, params.accountId);
      const approved = await pairing.approveRequest(channel.id, params.requestId);
      if (!approved) throw gone();
      ctx.logger.info("channel pairing approved", {
        channel: channel.id,
        sender: approved.id,
        by: call.caller.connId,
      });
      let notification = "not-requested";
      if (params.notify) {
        notification = await channel.send({ to: approved.meta?.chatId ?? approved.id, text: APPROVED_TEXT })
          .then(() => "sent", (error) => {
            ctx.logger.warn("pairing approval notice failed", { channel: channel.id, error: String(error) });
            return "failed";
          });
      }
      return {
        requestId: params.requestId,
        senderId: approved.id,
        notification,
        commandOwnerBootstrap: params.bootstrapCommandOwner ? "unavailable" : "not-requested",
      };
    },
  });
  const dismiss = defineMethod({
    name: "channels.pairing.dismiss",
    scope: "operator.pairing",
    params: PairingDismissParams,
    handler: async ({ params }) => {
      const channel = pairingAccountOrThrow(deps, params.channel, params.accountId);
      const dismissed = await pairing.dismissRequest(channel.id, params.requestId);
      if (!dismissed) throw gone();
      return { requestId: params.requestId, senderId: dismissed.id };
    },
  });
  for (const method of [statusMethod, list, approve, dismiss]) ctx.registerMethod(method);
}

/** The `channels.status` result: every running channel (or the one asked for), probed when asked. */
async function status(ctx: GatewayContext, channels: RunningChannels, params: z.infer<typeof StatusParams>) {
  const ids = [...channels.entries()].map(([id]) => id).filter((id) =>
    !params.channel || id === params.channel
  );
  if (params.channel && !ids.length) channels.orThrow(params.channel);
  const probes = new Map<string, ChannelProbe>();
  if (params.probe) {
    const signal = AbortSignal.timeout(params.timeoutMs || DEFAULT_PROBE_TIMEOUT_MS);
    await Promise.all(ids.map(async (id) => probes.set(id, await channels.get(id)!.probe(signal))));
  }
  const result = {
    ts: ctx.now(),
    channelOrder: ids,
    channelLabels: {} as Record<string, string>,
    channelDetailLabels: {} as Record<string, string>,
    channelMeta: [] as { id: string; label: string; detailLabel: string }[],
    channels: {} as Record<string, unknown>,
    channelAccounts: {} as Record<string, unknown[]>,
    channelDefaultAccountId: {} as Record<string, string>,
  };
  for (const id of ids) {
    const channel = channels.get(id)!;
    const account = channel.status();
    result.channelLabels[id] = channel.label;
    result.channelDetailLabels[id] = channel.detailLabel;
    result.channelMeta.push({ id, label: channel.label, detailLabel: channel.detailLabel });
    result.channels[id] = channelSummary(account, probes.get(id));
    result.channelAccounts[id] = [account];
    result.channelDefaultAccountId[id] = DEFAULT_ACCOUNT_ID;
  }
  return result;
}

/** Running channels whose DMs go through pairing, optionally narrowed to one channel/account. */
function pairingAccounts(
  { channels, factories }: MethodDeps,
  channelId?: string,
  accountId?: string,
): Channel[] {
  if (channelId && !factories[channelId]) {
    throw new GatewayError("INVALID_REQUEST", `unknown pairing channel: ${channelId}`);
  }
  if (accountId && accountId !== DEFAULT_ACCOUNT_ID) return [];
  return [...channels.entries()]
    .filter(([, { channel, settings }]) =>
      (!channelId || channel.id === channelId) && channel.status().configured &&
      dmSettings(channel.id, settings).dmPolicy === "pairing"
    )
    .map(([, { channel }]) => channel);
}

function pairingAccountOrThrow(deps: MethodDeps, channelId: string, accountId: string): Channel {
  const [channel] = pairingAccounts(deps, channelId, accountId);
  if (!channel) {
    throw new GatewayError(
      "INVALID_REQUEST",
      `channel account does not use DM pairing: ${channelId}:${accountId}`,
    );
  }
  return channel;
}

const gone = () => new GatewayError("INVALID_REQUEST", "pending DM access request no longer exists");

async function publicRequest(channel: Channel, request: PairingRequest) {
  const { accountId: _account, senderId: _sender, ...rest } = request.meta ?? {};
  const metadata = Object.fromEntries(Object.entries(rest).filter(([, v]) => v));
  return {
    requestId: await pairingRequestId(channel.id, request),
    channel: channel.id,
    channelLabel: channel.label,
    accountId: DEFAULT_ACCOUNT_ID,
    senderId: request.id,
    senderLabel: channel.senderIdLabel ?? "senderId",
    ...(Object.keys(metadata).length ? { metadata } : {}),
    createdAt: request.createdAt,
    lastSeenAt: request.lastSeenAt,
    expiresAt: new Date(Date.parse(request.createdAt) + PAIRING_TTL_MS).toISOString(),
    notifySupported: true,
  };
}

/** Told to an approved sender when the operator asks to notify them. */
const APPROVED_TEXT = "Your access request was approved; send your message again.";
