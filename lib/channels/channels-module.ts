/**
 * The channels module: builds channels from `channels.*`, starts and stops them with the gateway and on
 * config reload, turns inbound messages into agent turns and sends the replies back, serves channel
 * webhooks under `/channels/<id>/`, and answers `channels.status` (with `probe`) and the health section.
 * Every inbound message passes the sender policy first (`access.ts`); unknown direct senders on a
 * pairing channel get a code and nothing else, and `channels.pairing.*` lets an operator approve them.
 *
 * @module
 */
import { z } from "zod";
import type { AgentsModule } from "../agents/agents-module.ts";
import { bodyTimeoutMs } from "../config/sections/gateway.ts";
import { GatewayError, missingScope } from "../errors.ts";
import { jsonResponse } from "../http/security-headers.ts";
import type { Logger } from "../log/logger.ts";
import { defineMethod } from "../methods/descriptor.ts";
import type { MetricsRecorder } from "../metrics/recorder.ts";
import { scopeSatisfied } from "../protocol/scopes.ts";
import type { FetchLike } from "../providers/types.ts";
import { type JsonDocs, MemoryJsonDocs } from "../state/json-docs.ts";
import type { GatewayContext, GatewayModule } from "../types.ts";
import { type AccessDecision, dmAccess, dmSettings, groupAccess } from "./access.ts";
import {
  ChannelPairing,
  PAIRING_MAX_PENDING,
  PAIRING_TTL_MS,
  type PairingRequest,
  pairingRequestId,
} from "./pairing.ts";
import { DEFAULT_ACCOUNT_ID } from "./status.ts";
import { telegramChannel } from "./telegram.ts";
import { type AgentTurns, agentTurns } from "./turns.ts";
import type { Channel, ChannelFactory, ChannelProbe, InboundMessage } from "./types.ts";
import { webhookChannel } from "./webhook.ts";

/** Channel ids this gateway knows how to run. */
export const BUILTIN_CHANNELS: Readonly<Record<string, ChannelFactory>> = {
  telegram: telegramChannel,
  webhook: webhookChannel,
};

/** Where channel webhooks are served. */
export const CHANNELS_HTTP_PREFIX = "/channels/";

const DEFAULT_PROBE_TIMEOUT_MS = 10_000;

/** Options for {@link channelsModule}. */
export interface ChannelsModuleOptions {
  /** Inbound messages become turns of these agents; without it channels only send. */
  agents?: AgentsModule;
  /** Overrides how turns start (tests, embedders without the agents module). */
  turns?: AgentTurns;
  metrics?: MetricsRecorder;
  /** What channels call the outside world with; defaults to the global `fetch`. */
  fetch?: FetchLike;
  /** Extra or replacement channel factories by id. */
  factories?: Record<string, ChannelFactory>;
  /**
   * Where pairing requests, approved senders and channel offsets are kept; in-process by default. The
   * runner passes `fileJsonDocs(stateDir)` so `openclaw pairing approve` and restarts see the same state.
   */
  state?: JsonDocs;
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

/** Creates the channels module. */
export function channelsModule(options: ChannelsModuleOptions = {}): ChannelsModule {
  const factories = { ...BUILTIN_CHANNELS, ...options.factories };
  const running = new Map<string, { channel: Channel; config: string; settings: Record<string, unknown> }>();
  const state = options.state ?? new MemoryJsonDocs();
  let context: GatewayContext | undefined;
  let turns = options.turns;
  let pairing: ChannelPairing | undefined;

  const entries = (): [string, Record<string, unknown>][] =>
    Object.entries((context?.config().channels ?? {}) as Record<string, unknown>)
      .filter(([id, value]) => factories[id] && value && typeof value === "object")
      .map(([id, value]) => [id, value as Record<string, unknown>]);

  const channelOrThrow = (id: string): Channel => {
    const entry = running.get(id);
    if (!entry) {
      throw new GatewayError("INVALID_REQUEST", `channel '${id}' is not configured or not enabled`, {
        details: { channel: id, configured: [...running.keys()] },
      });
    }
    return entry.channel;
  };

  async function deliverReply(channel: Channel, message: InboundMessage, text: string): Promise<void> {
    const started = context!.now();
    try {
      await channel.send({ to: message.chatId, text, replyToId: message.messageId });
      options.metrics?.messageDelivered(channel.id, "ok", (context!.now() - started) / 1000);
    } catch (error) {
      options.metrics?.messageDelivered(channel.id, "error", (context!.now() - started) / 1000);
      context!.logger.warn("channel reply failed", { channel: channel.id, error: String(error) });
    }
  }

  /** The sender policy's verdict; a pairing verdict also records the request and sends the code once. */
  async function admit(
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
      decision = dmAccess(dmPolicy, allowFrom, message.senderId, await pairing!.approved(channel.id));
    }
    if (decision.decision !== "pairing") return decision;
    const outcome = await pairing!.request(channel.id, message.senderId, {
      chatId: message.chatId,
      ...(message.senderName ? { name: message.senderName } : {}),
    });
    if (!outcome.created) {
      return {
        decision: "pairing",
        reason: outcome.code ? "pairing_pending" : "pairing_pending_cap_reached",
      };
    }
    context!.logger.info("channel pairing requested", { channel: channel.id, sender: message.senderId });
    await channel.send({ to: message.chatId, text: pairingReply(channel.id, message.senderId, outcome.code) })
      .catch((error) =>
        context!.logger.warn("pairing code could not be sent", { channel: channel.id, error: String(error) })
      );
    return decision;
  }

  async function receive(channel: Channel, config: Record<string, unknown>, message: InboundMessage) {
    const ctx = context!;
    options.metrics?.messageReceived(channel.id);
    let access: AccessDecision;
    try {
      access = await admit(channel, config, message);
    } catch (error) {
      // A store that cannot be read admits no one rather than everyone.
      ctx.logger.warn("channel sender check failed; message dropped", {
        channel: channel.id,
        error: String(error),
      });
      return;
    }
    if (access.decision !== "allow") {
      ctx.logger.info("channel message not admitted", {
        channel: channel.id,
        sender: message.senderId,
        chat: message.chatId,
        reason: access.reason,
      });
      return;
    }
    if (!turns) {
      ctx.logger.warn("channel message dropped: no agents module", { channel: channel.id });
      return;
    }
    const agentId = typeof config.agentId === "string" ? config.agentId : undefined;
    try {
      const turn = turns.start({
        message: message.text,
        agentId,
        // One session per chat and channel, so two people (or two groups) never share a transcript.
        sessionKey: `${channel.id}:${message.chatType === "group" ? "group" : "direct"}:${message.chatId}`,
        queueOwner: `channel:${channel.id}:${message.chatId}`,
      });
      const result = await turn.done;
      if (result.status === "ok" && result.text.trim()) await deliverReply(channel, message, result.text);
      else if (result.status === "error") {
        ctx.logger.warn("channel turn failed", {
          channel: channel.id,
          runId: turn.runId,
          error: result.error,
        });
      }
    } catch (error) {
      ctx.logger.warn("channel turn could not start", { channel: channel.id, error: String(error) });
    }
  }

  /** Values channels keep across their rebuilds (see `ChannelHost.lasting`). */
  const lasting = new Map<string, unknown>();

  async function startChannel(id: string, config: Record<string, unknown>): Promise<void> {
    const ctx = context!;
    const channel = factories[id](config, ctx.env);
    running.set(id, { channel, config: JSON.stringify(config), settings: config });
    const logger: Logger = ctx.logger.child(`channels/${id}`);
    await channel.start({
      logger,
      fetch: options.fetch ?? ((input, init) => fetch(input, init)),
      now: () => ctx.now(),
      state,
      bodyTimeoutMs: () => bodyTimeoutMs(ctx.config().gateway),
      lasting: <T>(name: string, make: () => T): T => {
        const key = `${id}\0${name}`;
        if (!lasting.has(key)) lasting.set(key, make());
        return lasting.get(key) as T;
      },
      receive: (message) => void receive(channel, config, message),
    });
  }

  async function stopChannel(id: string): Promise<void> {
    const entry = running.get(id);
    running.delete(id);
    await entry?.channel.stop().catch((error) =>
      context?.logger.warn("channel stop failed", { channel: id, error: String(error) })
    );
  }

  /** Brings running channels in line with the config: stop removed or changed ones, start new ones. */
  async function reconcile(): Promise<void> {
    const wanted = new Map(entries().filter(([, c]) => c.enabled !== false));
    for (const [id, entry] of [...running]) {
      const next = wanted.get(id);
      if (!next || JSON.stringify(next) !== entry.config) await stopChannel(id);
    }
    for (const [id, config] of wanted) {
      if (!running.has(id)) await startChannel(id, config);
    }
  }

  async function status(params: z.infer<typeof StatusParams>) {
    const ctx = context!;
    const ids = [...running.keys()].filter((id) => !params.channel || id === params.channel);
    if (params.channel && !ids.length) channelOrThrow(params.channel);
    const probes = new Map<string, ChannelProbe>();
    if (params.probe) {
      const signal = AbortSignal.timeout(params.timeoutMs || DEFAULT_PROBE_TIMEOUT_MS);
      await Promise.all(ids.map(async (id) => probes.set(id, await running.get(id)!.channel.probe(signal))));
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
      const channel = running.get(id)!.channel;
      const account = channel.status();
      result.channelLabels[id] = channel.label;
      result.channelDetailLabels[id] = channel.detailLabel;
      result.channelMeta.push({ id, label: channel.label, detailLabel: channel.detailLabel });
      result.channels[id] = summary(account, probes.get(id));
      result.channelAccounts[id] = [account];
      result.channelDefaultAccountId[id] = DEFAULT_ACCOUNT_ID;
    }
    return result;
  }

  /** Running channels whose DMs go through pairing, optionally narrowed to one channel/account. */
  function pairingAccounts(channelId?: string, accountId?: string): Channel[] {
    if (channelId && !factories[channelId]) {
      throw new GatewayError("INVALID_REQUEST", `unknown pairing channel: ${channelId}`);
    }
    if (accountId && accountId !== DEFAULT_ACCOUNT_ID) return [];
    return [...running.values()]
      .filter(({ channel, settings }) =>
        (!channelId || channel.id === channelId) && channel.status().configured &&
        dmSettings(channel.id, settings).dmPolicy === "pairing"
      )
      .map(({ channel }) => channel);
  }

  function pairingAccountOrThrow(channelId: string, accountId: string): Channel {
    const [channel] = pairingAccounts(channelId, accountId);
    if (!channel) {
      throw new GatewayError(
        "INVALID_REQUEST",
        `channel account does not use DM pairing: ${channelId}:${accountId}`,
      );
    }
    return channel;
  }

  const gone = () => new GatewayError("INVALID_REQUEST", "pending DM access request no longer exists");

  function registerPairingMethods(ctx: GatewayContext): void {
    const list = defineMethod({
      name: "channels.pairing.list",
      scope: "operator.pairing",
      params: PairingListParams,
      handler: async ({ params }) => {
        const accounts = pairingAccounts(params.channel, params.accountId);
        const requests = [];
        for (const channel of accounts) {
          for (const request of await pairing!.pending(channel.id)) {
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
        const channel = pairingAccountOrThrow(params.channel, params.accountId);
        const approved = await pairing!.approveRequest(channel.id, params.requestId);
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
              ctx.logger.warn("pairing approval notice failed", {
                channel: channel.id,
                error: String(error),
              });
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
        const channel = pairingAccountOrThrow(params.channel, params.accountId);
        const dismissed = await pairing!.dismissRequest(channel.id, params.requestId);
        if (!dismissed) throw gone();
        return { requestId: params.requestId, senderId: dismissed.id };
      },
    });
    for (const method of [list, approve, dismiss]) ctx.registerMethod(method);
  }

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

  return {
    name: "channels",
    async send(channelId, to, text) {
      const channel = channelOrThrow(channelId);
      const started = context!.now();
      try {
        await channel.send({ to, text });
        options.metrics?.messageDelivered(channelId, "ok", (context!.now() - started) / 1000);
      } catch (error) {
        options.metrics?.messageDelivered(channelId, "error", (context!.now() - started) / 1000);
        throw error;
      }
    },
    has: (channelId, accountId) =>
      running.has(channelId) && (accountId === undefined || accountId === DEFAULT_ACCOUNT_ID),
    async setup(ctx) {
      context = ctx;
      pairing = new ChannelPairing(state, () => ctx.now());
      turns ??= options.agents ? agentTurns(options.agents) : undefined;
      ctx.registerMethod(defineMethod({
        name: "channels.status",
        scope: "operator.read",
        params: StatusParams,
        handler: ({ params }) => status(params),
      }));
      registerPairingMethods(ctx);
      ctx.addHealthSection(() => {
        const channels: Record<string, unknown> = {};
        const labels: Record<string, string> = {};
        for (const [id, { channel }] of running) {
          channels[id] = summary(channel.status());
          labels[id] = channel.label;
        }
        return { channels, channelOrder: [...running.keys()], channelLabels: labels };
      });
      // A configured account that is not running, or whose last attempt failed, keeps the gateway
      // out of rotation: it cannot deliver what it was set up to deliver.
      ctx.addReadinessCheck("channels", () => {
        const failing = [...running].filter(([, { channel }]) => {
          const state = channel.status();
          return !state.running || state.lastError !== null;
        }).map(([id]) => id);
        return failing.length ? `not ready: ${failing.join(", ")}` : undefined;
      });
      ctx.registerRoute({
        path: CHANNELS_HTTP_PREFIX,
        prefix: true,
        async handler(request) {
          const [id, ...rest] = new URL(request.url).pathname.slice(CHANNELS_HTTP_PREFIX.length).split("/");
          const channel = running.get(id)?.channel;
          if (!channel?.handleHttp) {
            return jsonResponse({ ok: false, error: `no channel webhook for '${id}'` }, 404);
          }
          return await channel.handleHttp(request, rest.join("/"));
        },
      });
      ctx.onConfigChange(() => {
        reconcile().catch((error) => ctx.logger.error("channel reload failed", { error: String(error) }));
      });
      ctx.onStop(async () => {
        for (const id of [...running.keys()]) await stopChannel(id);
      });
      await reconcile();
    },
  };
}

/** The per-channel summary in `channels` (health and `channels.status`). */
function summary(account: ReturnType<Channel["status"]>, probe?: ChannelProbe): Record<string, unknown> {
  return {
    configured: account.configured,
    running: account.running,
    ...(account.connected !== undefined ? { connected: account.connected } : {}),
    ...(account.mode ? { mode: account.mode } : {}),
    lastError: account.lastError,
    ...(account.lastError && !account.running ? { status: "error" } : {}),
    ...(probe ? { probe } : {}),
  };
}

/** Told to an approved sender when the operator asks to notify them. */
const APPROVED_TEXT = "Your access request was approved; send your message again.";

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
