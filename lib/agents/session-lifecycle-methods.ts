/**
 * The methods the Control UI manages sessions with: `sessions.create`, `sessions.patch` and
 * `sessions.delete` (`sessions.compact` is in `compaction.ts`), with the reference's params, answers,
 * events and scopes.
 * Fields the protocol allows but this gateway has nothing behind (worktrees, exec nodes, thinking levels,
 * permission modes, ...) are refused by name rather than stored and ignored.
 *
 * @module
 */
import type { z } from "zod";
import { GatewayError, missingScope } from "../errors.ts";
import { type AnyMethod, defineMethod, type ValidatedCall } from "../methods/descriptor.ts";
import { scopeSatisfied } from "../protocol/scopes.ts";
import type { SessionEntry, SessionPatch } from "../state/sessions.ts";
import type { GatewayContext } from "../types.ts";
import { publishSessionsChanged } from "./run-events.ts";
import {
  CREATE_SUPPORTED,
  CreateParams,
  DELETE_SUPPORTED,
  DELETE_WRITE_FIELDS,
  DeleteParams,
  givenFields,
  PATCH_SUPPORTED,
  PATCH_WRITE_FIELDS,
  PatchParams,
  refuseUnsupported,
} from "./session-lifecycle-params.ts";
import { sessionRow, splitModelRef } from "./rows.ts";
import type { AgentRuntime } from "./runtime.ts";
import { mainSessionKey } from "./session-keys.ts";
import { targetSession } from "./session-target.ts";

/** The fields a conditional read acknowledgement may carry besides `unread: false`. */
const UNREAD_ACK_FIELDS = new Set([
  "key",
  "agentId",
  "expectedSessionId",
  "expectedMarkedUnreadAt",
  "unread",
]);

function requireAdmin(call: ValidatedCall<unknown>): void {
  if (!scopeSatisfied(call.caller.scopes, "operator.admin")) throw missingScope("operator.admin");
}

function changedError(key: string, what: string): GatewayError {
  return new GatewayError("INVALID_REQUEST", `Session ${key} changed before ${what}. Retry.`, {
    details: { reason: "session-changed" },
  });
}

/** A new, empty session an operator opened. */
function openedSession(target: { key: string; agentId: string }, now: number): SessionEntry {
  return {
    key: target.key,
    sessionId: crypto.randomUUID(),
    agentId: target.agentId,
    createdAt: now,
    updatedAt: now,
    inputTokens: 0,
    outputTokens: 0,
    createdVia: "operator",
  };
}

/** `fields` without the ones left undefined. */
function definedOnly<T extends Record<string, unknown>>(fields: T): Partial<T> {
  return Object.fromEntries(Object.entries(fields).filter(([, value]) => value !== undefined)) as Partial<T>;
}

/** `sessions.create`, `sessions.patch` and `sessions.delete`. */
export function sessionLifecycleMethods(context: GatewayContext, runtime: AgentRuntime): AnyMethod[] {
  const { sessions, transcripts } = context.stores;
  const rowOf = (entry: SessionEntry) => {
    const active = runtime.runs.active(entry.key).map((run) => run.runId);
    return sessionRow(entry, active.length > 0, active);
  };
  const changed = (entry: SessionEntry, reason: string) =>
    publishSessionsChanged(context.bus, entry.key, reason, context.now(), {
      agentId: entry.agentId,
      session: rowOf(entry),
    });
  const resolvedModel = (entry: SessionEntry) =>
    splitModelRef(entry.modelOverride ?? runtime.agents().get(entry.agentId).model);
  // Labels name one session each, as the reference keeps them.
  const assertLabelFree = async (label: string | null | undefined, key: string) => {
    if (!label) return;
    const taken = (await sessions.list()).some((s) => s.key !== key && s.label === label);
    if (taken) throw new GatewayError("INVALID_REQUEST", `label already in use: ${label}`);
  };
  const checkModel = (model: string | null | undefined) => {
    if (model) runtime.providers().resolve(model);
  };

  const patchResult = (entry: SessionEntry) => ({
    ok: true as const,
    key: entry.key,
    entry: rowOf(entry),
    resolved: resolvedModel(entry),
  });
  // The reference's conditional acknowledgement: `unread: false` alone, applied only while the session's
  // unread mark is the one the client saw; a newer mark is left standing and the row answered as it is.
  const acknowledgeRead = async (key: string, params: z.infer<typeof PatchParams>) => {
    const others = givenFields(params).filter((name) => !UNREAD_ACK_FIELDS.has(name));
    if (params.unread !== false || others.length) {
      throw new GatewayError(
        "INVALID_REQUEST",
        "expectedMarkedUnreadAt requires unread=false as the only mutation.",
      );
    }
    const entry = await sessions.get(key);
    if (!entry) throw changedError(key, "patch");
    if ((entry.markedUnreadAt ?? null) !== params.expectedMarkedUnreadAt) return patchResult(entry);
    const read = await sessions.patch(
      key,
      { markedUnreadAt: null, lastReadAt: context.now() },
      entry.sessionId,
    );
    if (!read) throw changedError(key, "patch");
    changed(read, "patch");
    return patchResult(read);
  };

  const create = defineMethod({
    name: "sessions.create",
    scope: "operator.write",
    params: CreateParams,
    handler: async (call) => {
      const { params } = call;
      // The reference's admin-only creations, refused as it would before saying they are unsupported.
      if (
        params.incognito === true || params.execNode !== undefined || params.toolOverrides !== undefined ||
        params.permissionMode === "full"
      ) requireAdmin(call);
      refuseUnsupported("sessions.create", params, CREATE_SUPPORTED);
      const target = targetSession(runtime, params.key ?? `dashboard:${crypto.randomUUID()}`, params.agentId);
      checkModel(params.model);
      await assertLabelFree(params.label, target.key);
      const now = context.now();
      const fields = definedOnly({
        label: params.label,
        category: params.category,
        modelOverride: params.model,
      });
      let { entry, created } = await sessions.create({
        ...openedSession(target, now),
        ...fields,
        ...definedOnly({ displayName: params.displayName }),
      });
      // Adopting an existing key applies the organisation fields given, as the reference does.
      if (!created && Object.keys(fields).length) entry = await sessions.patch(entry.key, fields) ?? entry;
      changed(entry, created ? "create" : "patch");
      const result: Record<string, unknown> = {
        ok: true,
        key: entry.key,
        sessionId: entry.sessionId,
        entry: rowOf(entry),
        runStarted: false,
        resolved: resolvedModel(entry),
      };
      if (params.message?.trim()) {
        const handle = runtime.startTurn({
          sessionKey: entry.key,
          agentId: entry.agentId,
          messages: [{ role: "user", content: params.message }],
          origin: { kind: "chat", connId: call.caller.connId },
          runId: params.idempotencyKey,
        });
        Object.assign(result, { runStarted: true, runId: handle.runId });
      }
      return result;
    },
  });

  const patch = defineMethod({
    name: "sessions.patch",
    scope: "operator.write",
    params: PatchParams,
    handler: async (call) => {
      const { params } = call;
      if (
        params.permissionMode === "full" || !givenFields(params).every((name) => PATCH_WRITE_FIELDS.has(name))
      ) {
        requireAdmin(call);
      }
      refuseUnsupported("sessions.patch", params, PATCH_SUPPORTED);
      const target = targetSession(runtime, params.key, params.agentId);
      // Archiving or restoring names the transcript it means, so a reset in between is noticed.
      if (params.archived !== undefined && !params.expectedSessionId) {
        throw new GatewayError(
          "INVALID_REQUEST",
          `expectedSessionId required for session lifecycle patch: ${target.key}`,
        );
      }
      if (params.expectedMarkedUnreadAt !== undefined) return await acknowledgeRead(target.key, params);
      checkModel(params.model);
      await assertLabelFree(params.label, target.key);
      const now = context.now();
      const fields: SessionPatch = {
        label: params.label,
        icon: params.icon,
        color: params.color,
        category: params.category,
        modelOverride: params.model,
        updatedAt: now,
      };
      if (params.pinned !== undefined) fields.pinnedAt = params.pinned ? now : null;
      if (params.archived !== undefined) fields.archivedAt = params.archived ? now : null;
      if (params.unread === true) fields.markedUnreadAt = now;
      if (params.unread === false) Object.assign(fields, { markedUnreadAt: null, lastReadAt: now });
      // Patching a key with no session yet opens one, as the reference does (a draft named before use).
      if (!params.expectedSessionId) await sessions.create(openedSession(target, now));
      const entry = await sessions.patch(target.key, fields, params.expectedSessionId);
      if (!entry) throw changedError(target.key, "patch");
      changed(entry, "patch");
      return patchResult(entry);
    },
  });

  const remove = defineMethod({
    name: "sessions.delete",
    scope: "operator.write",
    params: DeleteParams,
    handler: async (call) => {
      const { params } = call;
      if (
        params.archivedOnly !== true || !givenFields(params).every((name) => DELETE_WRITE_FIELDS.has(name))
      ) {
        requireAdmin(call);
      }
      refuseUnsupported("sessions.delete", params, DELETE_SUPPORTED);
      const target = targetSession(runtime, params.key, params.agentId);
      if (target.key === mainSessionKey(target.agentId)) {
        throw new GatewayError("INVALID_REQUEST", `Cannot delete the main session (${target.key}).`);
      }
      const entry = await sessions.get(target.key);
      if (!entry) return { ok: true as const, key: target.key, deleted: false, archived: [] };
      if (params.archivedOnly && entry.archivedAt === undefined) {
        throw new GatewayError(
          "INVALID_REQUEST",
          `Session ${target.key} is not archived. Archive it first, then delete it.`,
        );
      }
      if (
        (params.expectedSessionId !== undefined && entry.sessionId !== params.expectedSessionId) ||
        (params.expectedSessionUpdatedAt !== undefined && entry.updatedAt !== params.expectedSessionUpdatedAt)
      ) throw changedError(target.key, "deletion");
      // No turn may write into a session after it is gone.
      await runtime.stopRuns(target.key);
      const removed = await sessions.delete(target.key, entry.sessionId);
      if (!removed) throw changedError(target.key, "deletion");
      const archived = params.deleteTranscript === false
        ? undefined
        : await transcripts.archive({ agentId: removed.agentId, sessionId: removed.sessionId });
      const now = context.now();
      publishSessionsChanged(context.bus, target.key, "delete", now, {
        sessionId: removed.sessionId,
        agentId: removed.agentId,
      });
      publishSessionsChanged(context.bus, undefined, "delete", now);
      return { ok: true as const, key: target.key, deleted: true, archived: archived ? [archived] : [] };
    },
  });

  return [create, patch, remove];
}
