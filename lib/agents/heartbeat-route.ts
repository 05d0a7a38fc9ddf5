/**
 * Where a heartbeat alert goes, decided before the turn runs: `none` keeps it internal; `owner` (the
 * default) is the first `commands.ownerAllowFrom` entry (`telegram:123`) on a channel that can send, else
 * the first concrete `allowFrom` sender of such a channel; a channel id with `to` is that recipient. This
 * gateway records no conversation routes, so `last` never has one. No route means no turn (`no-route`).
 *
 * @module
 */
import type { GatewayConfig } from "../config/schema.ts";
import type { HeartbeatPlan } from "./heartbeat-config.ts";
import type { ChannelDelivery } from "./service.ts";

/** A channel and recipient. */
export interface HeartbeatRoute {
  channel: string;
  to: string;
}

/** The route of a plan, `null` for an internal-only heartbeat, or `undefined` when there is none. */
export function heartbeatRoute(
  plan: HeartbeatPlan,
  config: GatewayConfig,
  delivery: ChannelDelivery | undefined,
): HeartbeatRoute | null | undefined {
  if (plan.target === "none") return null;
  if (!delivery || plan.target === "last") return undefined;
  if (plan.target !== "owner") {
    return plan.to && delivery.has(plan.target) ? { channel: plan.target, to: plan.to } : undefined;
  }
  for (const owner of config.commands?.ownerAllowFrom ?? []) {
    const [channel, ...rest] = String(owner).split(":");
    const to = rest.join(":").trim();
    if (to && to !== "*" && delivery.has(channel)) return { channel, to };
  }
  for (const [channel, entry] of Object.entries(config.channels ?? {})) {
    const allowFrom = (entry as { allowFrom?: unknown } | undefined)?.allowFrom;
    if (!Array.isArray(allowFrom) || !delivery.has(channel)) continue;
    const to = allowFrom.map((v) => String(v).trim().replace(/^(telegram|tg):/i, "")).find((v) =>
      v && v !== "*"
    );
    if (to) return { channel, to };
  }
  return undefined;
}
