/**
 * The channels that run: built from `channels.*`, started and stopped with the gateway and brought in
 * line with the config on every reload, and what the rest of the gateway asks of them (send, health,
 * readiness).
 *
 * @module
 */
import { bodyTimeoutMs } from "../config/sections/gateway.ts";
import { GatewayError } from "../errors.ts";
import type { MetricsRecorder } from "../metrics/recorder.ts";
import type { FetchLike } from "../providers/types.ts";
import type { GatewayContext } from "../types.ts";
import { DEFAULT_ACCOUNT_ID } from "./status.ts";
import type {
  Channel,
  ChannelFactory,
  ChannelProbe,
  InboundMessage,
  OutboundMessage,
  ReceiveOutcome,
} from "./types.ts";

/**
 * Where a channel's inbound messages go, with the config entry it runs under; settles as
 * `ChannelHost.receive` does.
 */
export type ChannelReceiver = (
  channel: Channel,
  config: Record<string, unknown>,
  message: InboundMessage,
) => Promise<ReceiveOutcome>;

/** What {@link RunningChannels} is built from. */
export interface RunningChannelsOptions {
  factories: Readonly<Record<string, ChannelFactory>>;
  fetch?: FetchLike;
  metrics?: MetricsRecorder;
}

/** A running channel, the config it was built from and that config serialized (to spot edits). */
export interface RunningChannel {
  channel: Channel;
  config: string;
  settings: Record<string, unknown>;
}

/** The set of running channels of one gateway. */
export class RunningChannels {
  readonly #running = new Map<string, RunningChannel>();
  /** Values channels keep across their rebuilds (see `ChannelHost.lasting`). */
  readonly #lasting = new Map<string, unknown>();
  #context: GatewayContext | undefined;
  #receive: ChannelReceiver | undefined;

  constructor(private readonly options: RunningChannelsOptions) {}

  /** Binds the set to its gateway; channels start only after this. */
  attach(context: GatewayContext, receive: ChannelReceiver): void {
    this.#context = context;
    this.#receive = receive;
  }

  /** The running channels by id, in start order. */
  entries(): IterableIterator<[string, RunningChannel]> {
    return this.#running.entries();
  }

  /** The running channel `id`, if any. */
  get(id: string): Channel | undefined {
    return this.#running.get(id)?.channel;
  }

  /** The running channel `id`; `INVALID_REQUEST` naming the configured ones otherwise. */
  orThrow(id: string): Channel {
    const entry = this.#running.get(id);
    if (!entry) {
      throw new GatewayError("INVALID_REQUEST", `channel '${id}' is not configured or not enabled`, {
        details: { channel: id, configured: [...this.#running.keys()] },
      });
    }
    return entry.channel;
  }

  /** Whether a channel (and account) is configured and enabled. */
  has(channelId: string, accountId?: string): boolean {
    return this.#running.has(channelId) && (accountId === undefined || accountId === DEFAULT_ACCOUNT_ID);
  }

  /** Sends `text` to `to` on channel `channelId`, counting the delivery. */
  async send(channelId: string, to: string, text: string): Promise<void> {
    await sendCounted(this.orThrow(channelId), { to, text }, this.#context!, this.options.metrics);
  }

  /** Brings running channels in line with the config: stop removed or changed ones, start new ones. */
  async reconcile(): Promise<void> {
    const wanted = new Map(this.#configured().filter(([, c]) => c.enabled !== false));
    for (const [id, entry] of [...this.#running]) {
      const next = wanted.get(id);
      if (!next || JSON.stringify(next) !== entry.config) await this.#stop(id);
    }
    for (const [id, config] of wanted) {
      if (!this.#running.has(id)) await this.#start(id, config);
    }
  }

  /** Stops every channel (the gateway is stopping). */
  async stopAll(): Promise<void> {
    for (const id of [...this.#running.keys()]) await this.#stop(id);
  }

  /** The `channels` part of the health snapshot. */
  health(): Record<string, unknown> {
    const channels: Record<string, unknown> = {};
    const labels: Record<string, string> = {};
    for (const [id, { channel }] of this.#running) {
      channels[id] = channelSummary(channel.status());
      labels[id] = channel.label;
    }
    return { channels, channelOrder: [...this.#running.keys()], channelLabels: labels };
  }

  /**
   * Why the gateway is not ready, if a channel is to blame: a configured account that is not running, or
   * whose last attempt failed, cannot deliver what it was set up to deliver.
   */
  readiness(): string | undefined {
    const failing = [...this.#running].filter(([, { channel }]) => {
      const state = channel.status();
      return !state.running || state.lastError !== null;
    }).map(([id]) => id);
    return failing.length ? `not ready: ${failing.join(", ")}` : undefined;
  }

  #configured(): [string, Record<string, unknown>][] {
    return Object.entries((this.#context?.config().channels ?? {}) as Record<string, unknown>)
      .filter(([id, value]) => this.options.factories[id] && value && typeof value === "object")
      .map(([id, value]) => [id, value as Record<string, unknown>]);
  }

  async #start(id: string, config: Record<string, unknown>): Promise<void> {
    const ctx = this.#context!;
    const channel = this.options.factories[id](config, ctx.env);
    this.#running.set(id, { channel, config: JSON.stringify(config), settings: config });
    await channel.start({
      logger: ctx.logger.child(`channels/${id}`),
      fetch: this.options.fetch ?? ((input, init) => fetch(input, init)),
      now: () => ctx.now(),
      state: ctx.stores.docs,
      bodyTimeoutMs: () => bodyTimeoutMs(ctx.config().gateway),
      lasting: <T>(name: string, make: () => T): T => {
        const key = `${id}\0${name}`;
        if (!this.#lasting.has(key)) this.#lasting.set(key, make());
        return this.#lasting.get(key) as T;
      },
      receive: (message) => this.#receive!(channel, config, message),
      runSingleton: (name, run, stop) => ctx.runSingleton(name, run, { signal: stop }),
    });
  }

  async #stop(id: string): Promise<void> {
    const entry = this.#running.get(id);
    this.#running.delete(id);
    await entry?.channel.stop().catch((error) =>
      this.#context?.logger.warn("channel stop failed", { channel: id, error: String(error) })
    );
  }
}

/** Sends `message` on `channel`, counting the delivery and its duration in the metrics. */
export async function sendCounted(
  channel: Channel,
  message: OutboundMessage,
  clock: { now(): number },
  metrics: MetricsRecorder | undefined,
): Promise<void> {
  const started = clock.now();
  try {
    await channel.send(message);
    metrics?.messageDelivered(channel.id, "ok", (clock.now() - started) / 1000);
  } catch (error) {
    metrics?.messageDelivered(channel.id, "error", (clock.now() - started) / 1000);
    throw error;
  }
}

/** The per-channel summary in `channels` (health and `channels.status`). */
export function channelSummary(
  account: ReturnType<Channel["status"]>,
  probe?: ChannelProbe,
): Record<string, unknown> {
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
