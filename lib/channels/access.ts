/**
 * Who may reach the agent through a channel, as OpenClaw's channel docs define it.
 *
 * Direct messages follow `dmPolicy`: `pairing` (the default) admits `allowFrom` plus the senders the
 * owner approved and answers anyone else with a pairing code only; `allowlist` admits `allowFrom` only;
 * `open` admits everyone only when `allowFrom` holds `"*"`, otherwise still just `allowFrom`; `disabled`
 * admits no one. Pairing approvals never widen `open` or `allowlist`.
 *
 * Group messages need the group allowed (`groups` keys, `"*"` for all; with no `groups` map only
 * `groupPolicy: "open"` lets groups in) and the sender allowed by the group policy: `open` anyone,
 * `allowlist` (the default) `groupAllowFrom`, falling back to `allowFrom` but never to pairing approvals,
 * `disabled` no one. A group (or `groups."*"`) may override `groupPolicy`, `allowFrom` and
 * `requireMention` (true by default: the bot answers in groups only when mentioned).
 *
 * @module
 */
import type { DmPolicy, GroupConfig, GroupPolicy } from "../config/sections/channels.ts";

/** What happens to one inbound message. */
export interface AccessDecision {
  /** Hand the message to the agent, drop it, or answer with a pairing code. */
  decision: "allow" | "block" | "pairing";
  /** Why, for the log (OpenClaw's reason codes). */
  reason: string;
}

/** Sender ids as people write them: `telegram:123`, `tg:123` and `123` are the same sender. */
export function normalizeAllowList(list: unknown): string[] {
  if (!Array.isArray(list)) return [];
  return list.map((v) => String(v).trim().replace(/^(telegram|tg):/i, "")).filter(Boolean);
}

/**
 * DM defaults where they differ from OpenClaw's `pairing`: the webhook channel's callers already proved
 * themselves with the HMAC secret, so any `from` they sign is answered unless `allowFrom` narrows it.
 */
const DM_DEFAULTS: Readonly<Record<string, { dmPolicy: DmPolicy; allowFrom: string[] }>> = {
  webhook: { dmPolicy: "open", allowFrom: ["*"] },
};

/** The effective `dmPolicy` and normalized `allowFrom` of a channel entry (OpenClaw's default: pairing). */
export function dmSettings(
  channelId: string,
  config: Record<string, unknown>,
): { dmPolicy: DmPolicy; allowFrom: string[] } {
  const fallback = DM_DEFAULTS[channelId];
  return {
    dmPolicy: (config.dmPolicy ?? fallback?.dmPolicy ?? "pairing") as DmPolicy,
    allowFrom: Array.isArray(config.allowFrom)
      ? normalizeAllowList(config.allowFrom)
      : fallback?.allowFrom ?? [],
  };
}

const allows = (list: readonly string[], senderId: string) => list.includes("*") || list.includes(senderId);

/** The direct-message decision; `approved` is only consulted under `pairing`. */
export function dmAccess(
  policy: DmPolicy,
  allowFrom: readonly string[],
  senderId: string,
  approved: readonly string[] = [],
): AccessDecision {
  switch (policy) {
    case "disabled":
      return { decision: "block", reason: "dm_policy_disabled" };
    case "open":
      if (allowFrom.includes("*")) return { decision: "allow", reason: "dm_policy_open" };
      return allowFrom.includes(senderId)
        ? { decision: "allow", reason: "dm_policy_allowlisted" }
        : { decision: "block", reason: "dm_policy_not_allowlisted" };
    case "allowlist":
      return allows(allowFrom, senderId)
        ? { decision: "allow", reason: "dm_policy_allowlisted" }
        : { decision: "block", reason: "dm_policy_not_allowlisted" };
    case "pairing":
      return allows(allowFrom, senderId) || approved.includes(senderId)
        ? { decision: "allow", reason: "dm_policy_allowlisted" }
        : { decision: "pairing", reason: "dm_policy_pairing_required" };
  }
}

/** The group-message decision for `senderId` in `chatId`; `mentioned` says whether the bot was addressed. */
export function groupAccess(
  config: Record<string, unknown>,
  chatId: string,
  senderId: string,
  mentioned: boolean,
): AccessDecision {
  const groups = isRecord(config.groups) ? config.groups : undefined;
  const entry = (groups?.[chatId] ?? groups?.["*"]) as GroupConfig | undefined;
  const policy = (entry?.groupPolicy ?? config.groupPolicy ?? "allowlist") as GroupPolicy;
  if (policy === "disabled") return { decision: "block", reason: "group_policy_disabled" };
  if (groups ? !entry || entry.enabled === false : policy !== "open") {
    return { decision: "block", reason: "group_not_allowed" };
  }
  if (policy === "allowlist") {
    const senders = normalizeAllowList(entry?.allowFrom ?? config.groupAllowFrom ?? config.allowFrom);
    if (!senders.length) return { decision: "block", reason: "group_policy_empty_allowlist" };
    if (!allows(senders, senderId)) return { decision: "block", reason: "group_policy_not_allowlisted" };
  }
  if ((entry?.requireMention ?? true) && !mentioned) {
    return { decision: "block", reason: "group_mention_required" };
  }
  return { decision: "allow", reason: "group_policy_allowed" };
}

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === "object" && value !== null && !Array.isArray(value);
}
