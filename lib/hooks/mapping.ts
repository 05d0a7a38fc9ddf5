/**
 * Mapped hooks (`POST <hooks.path>/<name>` per `hooks.mappings`): which mapping a request matches, and
 * the wake or agent action it renders from the payload.
 *
 * @module
 */
import type { HookMappingConfig, HooksSection } from "../config/sections/hooks.ts";
import { HookRefusal } from "./policy.ts";
import type { AgentAction, WakeAction } from "./requests.ts";
import { isTemplated, renderTemplate } from "./template.ts";

/** The mapping for hook `name` (by path, else by the payload's `source`) and its metrics label. */
export function findMapping(
  hooks: HooksSection,
  name: string,
  payload: Record<string, unknown>,
): { mapping: HookMappingConfig; label: string } {
  const mapping = (hooks.mappings ?? []).find((m) =>
    m.match?.path === name || (m.match?.path === undefined && m.match?.source === payload.source)
  );
  if (!mapping) throw new HookRefusal(404, `no hook mapping for '${name}' (see hooks.mappings)`);
  return { mapping, label: mapping.id ?? mapping.match?.path ?? name };
}

/** What a mapping asks for: a wake, or an agent run (with the payload's idempotency key). */
export type MappedAction =
  | { kind: "wake"; action: WakeAction }
  | { kind: "agent"; action: AgentAction; idempotencyKey?: string };

/** Renders `mapping`'s templates over `payload` into the action it stands for. */
export function mappedAction(
  hooks: HooksSection,
  mapping: HookMappingConfig,
  payload: Record<string, unknown>,
): MappedAction {
  const sessionKey = mapping.sessionKey ? renderTemplate(mapping.sessionKey, payload) : undefined;
  const callerKey = mapping.sessionKey ? isTemplated(mapping.sessionKey) : false;
  if (mapping.action === "wake") {
    return {
      kind: "wake",
      action: {
        text: renderTemplate(mapping.textTemplate ?? mapping.messageTemplate ?? "{{text}}", payload),
        mode: mapping.wakeMode ?? "now",
        agentId: mapping.agentId,
        sessionKey,
        callerKey,
        strictAgent: false,
      },
    };
  }
  const message = mapping.messageTemplate
    ? renderTemplate(mapping.messageTemplate, payload)
    : JSON.stringify(payload);
  if (!message.trim()) throw new HookRefusal(400, "the mapping rendered an empty message");
  return {
    kind: "agent",
    action: {
      message,
      name: mapping.name,
      agentId: mapping.agentId,
      sessionKey: sessionKey ?? (mapping.sessionMode === "persistent" ? hooks.defaultSessionKey : undefined),
      callerKey,
      strictAgent: false,
      callerTarget: false,
      sessionMode: mapping.sessionMode ?? "isolated",
      deliver: mapping.deliver,
      channel: mapping.channel,
      to: mapping.to,
      accountId: mapping.accountId,
      model: mapping.model,
    },
    idempotencyKey: typeof payload.idempotencyKey === "string" ? payload.idempotencyKey : undefined,
  };
}
