/**
 * The params of `sessions.create`, `sessions.patch`, `sessions.delete` and `sessions.compact` as the
 * protocol schema has them, and which fields need which scope. Fields the schema allows but this gateway
 * has nothing behind are accepted by the schema and refused by name in the handler
 * ({@link refuseUnsupported}), so the caller learns what is missing instead of reading "unexpected field".
 *
 * @module
 */
import * as z from "zod";
import { GatewayError } from "../errors.ts";

const Label = z.string().min(1).max(512);
const Nullable = <T extends z.ZodType>(schema: T) => schema.nullable().optional();

/** One schema for every such field: a schema per field would cost two zod objects each, kept for good. */
const AnyOptional = z.unknown().optional();

/** Schema entries for fields accepted on the wire and refused in the handler. */
function unsupported<const F extends string>(fields: readonly F[]): Record<F, z.ZodOptional<z.ZodUnknown>> {
  return Object.fromEntries(fields.map((field) => [field, AnyOptional])) as Record<
    F,
    z.ZodOptional<z.ZodUnknown>
  >;
}

/** `sessions.create` fields this gateway honours. */
export const CREATE_SUPPORTED = [
  "key",
  "idempotencyKey",
  "agentId",
  "label",
  "displayName",
  "category",
  "model",
  "message",
] as const;

// deno-fmt-ignore
const CREATE_UNSUPPORTED = [
  "contextWindow", "thinkingLevel", "fastMode", "permissionMode", "toolOverrides", "incognito", "visibility",
  "catalogId", "parentSessionKey", "spawnDepth", "fork", "forkFrom", "emitCommandHooks", "succeedsParent",
  "task", "attachments", "projectId", "projectGitUrl", "worktree", "worktreeBaseRef", "worktreeName",
  "execNode", "cwd",
] as const;

/** `sessions.create` params (the protocol's `SessionsCreateParams`). */
export const CreateParams = z.strictObject({
  key: z.string().min(1).optional(),
  idempotencyKey: z.string().min(1).optional(),
  agentId: z.string().min(1).optional(),
  label: Label.optional(),
  displayName: z.string().min(1).max(500).optional(),
  category: Label.optional(),
  model: z.string().min(1).optional(),
  message: z.string().optional(),
  ...unsupported(CREATE_UNSUPPORTED),
});

/** `sessions.patch` fields this gateway honours. */
export const PATCH_SUPPORTED = [
  "key",
  "agentId",
  "expectedSessionId",
  "label",
  "icon",
  "color",
  "category",
  "archived",
  "pinned",
  "unread",
  "model",
  "expectedMarkedUnreadAt",
] as const;

// deno-fmt-ignore
const PATCH_UNSUPPORTED = [
  "expectedLifecycleRevision", "expectedPermissionMode", "expectedToolOverrides", "boardFace", "statusNote", "attention", "ttlMinutes", "contextWindow", "thinkingLevel", "fastMode",
  "toolOverrides", "verboseLevel", "traceLevel", "reasoningLevel", "responseUsage", "elevatedLevel",
  "execHost", "execSecurity", "execAsk", "execNode", "permissionMode", "completionOwnerSessionKey",
  "inheritedToolPolicyVersion", "inheritedToolAllow", "inheritedToolDeny", "sendPolicy", "groupActivation",
] as const;

/** `sessions.patch` params (the protocol's `SessionsPatchParams`); `null` clears a field. */
export const PatchParams = z.strictObject({
  key: z.string().min(1),
  agentId: z.string().min(1).optional(),
  expectedSessionId: z.string().min(1).optional(),
  label: Nullable(Label),
  icon: Nullable(z.string()),
  color: Nullable(z.string()),
  category: Nullable(Label),
  archived: z.boolean().optional(),
  pinned: z.boolean().optional(),
  unread: z.boolean().optional(),
  model: Nullable(z.string().min(1)),
  // An automatic "read" acknowledgement: applied only while the unread mark is still this one.
  expectedMarkedUnreadAt: Nullable(z.number().min(0)),
  ...unsupported(PATCH_UNSUPPORTED),
});

/** `sessions.patch` fields the write scope covers (the reference's list); any other needs admin. */
// deno-fmt-ignore
export const PATCH_WRITE_FIELDS: ReadonlySet<string> = new Set([
  "key", "agentId", "expectedSessionId", "expectedLifecycleRevision", "expectedPermissionMode",
  "expectedMarkedUnreadAt", "label", "icon", "color", "category", "boardFace", "pinned", "archived",
  "unread", "model", "thinkingLevel", "fastMode", "permissionMode",
]);

/** `sessions.delete` params (the protocol's `SessionsDeleteParams`). */
export const DeleteParams = z.strictObject({
  key: z.string().min(1),
  agentId: z.string().min(1).optional(),
  deleteTranscript: z.boolean().optional(),
  expectedSessionId: z.string().min(1).optional(),
  expectedSessionUpdatedAt: z.number().min(0).optional(),
  // This gateway runs no lifecycle hooks: there is nothing to emit or to hold back.
  emitLifecycleHooks: z.boolean().optional(),
  archivedOnly: z.boolean().optional(),
  ...unsupported(["expectedLifecycleRevision"]),
});

/** `sessions.delete` fields a write scope may send, and only with `archivedOnly: true` (else admin). */
export const DELETE_WRITE_FIELDS: ReadonlySet<string> = new Set([
  "key",
  "agentId",
  "deleteTranscript",
  "expectedSessionId",
  "archivedOnly",
]);

/** `sessions.delete` fields this gateway honours. */
export const DELETE_SUPPORTED = [...DELETE_WRITE_FIELDS, "expectedSessionUpdatedAt", "emitLifecycleHooks"];

/** `sessions.compact` params (the protocol's `SessionsCompactParams`). */
export const CompactParams = z.strictObject({
  key: z.string().min(1),
  agentId: z.string().min(1).optional(),
  maxLines: z.number().int().min(1).optional(),
});

/** The names of the fields `params` sets (an `undefined` value counts as unset). */
export function givenFields(params: object): string[] {
  return Object.entries(params).filter(([, value]) => value !== undefined).map(([name]) => name);
}

/** Refuses the first field `params` sets that `supported` does not name, naming it. */
export function refuseUnsupported(method: string, params: object, supported: readonly string[]): void {
  const field = givenFields(params).find((name) => !supported.includes(name));
  if (field) {
    throw new GatewayError("INVALID_REQUEST", `${method} ${field} is not supported by this gateway`, {
      details: { field },
    });
  }
}
