/**
 * The session and agent rules of `hooks.*`: which agents a hook may reach and when a caller may pick
 * the session key.
 *
 * @module
 */
import type { HooksSection } from "../config/sections/hooks.ts";

/** A request the hooks endpoint refuses, with the status and message it answers. */
export class HookRefusal extends Error {
  constructor(readonly status: number, message: string) {
    super(message);
  }
}

/** Refuses agents outside `hooks.allowedAgentIds` (omitted or `*` = all, `[]` = none). */
export function checkAgentAllowed(hooks: HooksSection, agentId: string): void {
  const allowed = hooks.allowedAgentIds;
  if (!allowed || allowed.includes("*") || allowed.includes(agentId)) return;
  throw new HookRefusal(400, `agent '${agentId}' is not in hooks.allowedAgentIds`);
}

/**
 * Checks a caller-supplied (or template-derived) session key: needs `hooks.allowRequestSessionKey` and,
 * when `hooks.allowedSessionKeyPrefixes` is set, one of its prefixes.
 */
export function checkCallerSessionKey(hooks: HooksSection, sessionKey: string): void {
  if (!hooks.allowRequestSessionKey) {
    throw new HookRefusal(
      400,
      "sessionKey is not accepted: set hooks.allowRequestSessionKey to true to allow it",
    );
  }
  const prefixes = hooks.allowedSessionKeyPrefixes ?? [];
  // Session keys are case-insensitive (stored folded), so the allowlist is too.
  const folded = sessionKey.trim().toLowerCase();
  if (prefixes.length && !prefixes.some((p) => folded.startsWith(p.toLowerCase()))) {
    throw new HookRefusal(
      400,
      `sessionKey must start with one of hooks.allowedSessionKeyPrefixes: ${prefixes.join(", ")}`,
    );
  }
}

/** Persistent sessions need an explicit key, the opt-in and a non-empty prefix allowlist. */
export function checkPersistent(hooks: HooksSection, sessionKey: string | undefined): void {
  if (!sessionKey) throw new HookRefusal(400, 'sessionMode "persistent" needs a sessionKey');
  if (!hooks.allowedSessionKeyPrefixes?.length) {
    throw new HookRefusal(400, 'sessionMode "persistent" needs a non-empty hooks.allowedSessionKeyPrefixes');
  }
}

/**
 * Refuses a caller-chosen delivery target outside `hooks.allowedTargets` (`<channel>:<to>`,
 * `<channel>:*` or `*`; none by default), so a hook cannot send a reply wherever it likes.
 */
export function checkDeliveryTarget(hooks: HooksSection, channel: string, to: string): void {
  const allowed = hooks.allowedTargets ?? [];
  if (allowed.some((entry) => entry === "*" || entry === `${channel}:*` || entry === `${channel}:${to}`)) {
    return;
  }
  throw new HookRefusal(
    400,
    `delivery to ${channel}:${to} is not allowed: add "${channel}:${to}" (or "${channel}:*") to hooks.allowedTargets`,
  );
}
