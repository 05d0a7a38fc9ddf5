/**
 * The `hooks` section of `openclaw.json`: the inbound webhook endpoints (`/hooks/wake`, `/hooks/agent`,
 * mapped `/hooks/<name>`), named as OpenClaw names them. Unknown keys are kept.
 *
 * @module
 */
import { z } from "zod";

/** What a mapped hook does with a payload. */
export interface HookMappingConfig {
  id?: string;
  /** `path` matches the sub-path after `hooks.path`; `source` matches the payload's `source` field. */
  match?: { path?: string; source?: string; [key: string]: unknown };
  action?: "wake" | "agent";
  agentId?: string;
  name?: string;
  /** May hold `{{payload.path}}` templates; a templated key counts as caller-supplied. */
  sessionKey?: string;
  sessionMode?: "isolated" | "persistent";
  /** The agent message (`agent`) built from the payload with `{{...}}` templates. */
  messageTemplate?: string;
  /** The system event text (`wake`) built from the payload. */
  textTemplate?: string;
  wakeMode?: "now" | "next-heartbeat";
  deliver?: boolean;
  channel?: string;
  to?: string;
  accountId?: string;
  model?: string;
  timeoutSeconds?: number;
  [key: string]: unknown;
}

/** The whole `hooks` section. */
export interface HooksSection {
  enabled?: boolean;
  /** A string, or a SecretRef the runner resolves. Must differ from the gateway's own secrets. */
  token?: unknown;
  path?: string;
  /** Largest accepted request body; 256 KiB by default. */
  maxBodyBytes?: number;
  defaultSessionKey?: string;
  allowRequestSessionKey?: boolean;
  allowedSessionKeyPrefixes?: string[];
  /** Omitted or `["*"]`: any agent; `[]`: none. */
  allowedAgentIds?: string[];
  /**
   * Where a request may ask for the reply to be delivered: `<channel>:<to>`, `<channel>:*` or `*`. None by
   * default, so a hook caller cannot pick a recipient; targets written in `mappings` need no entry.
   */
  allowedTargets?: string[];
  presets?: string[];
  mappings?: HookMappingConfig[];
  transformsDir?: string;
  [key: string]: unknown;
}

const MappingSchema = z.looseObject({
  id: z.string().optional(),
  match: z.looseObject({ path: z.string().optional(), source: z.string().optional() }).optional(),
  action: z.enum(["wake", "agent"]).optional(),
  agentId: z.string().min(1).optional(),
  name: z.string().optional(),
  sessionKey: z.string().min(1).optional(),
  sessionMode: z.enum(["isolated", "persistent"]).optional(),
  messageTemplate: z.string().optional(),
  textTemplate: z.string().optional(),
  wakeMode: z.enum(["now", "next-heartbeat"]).optional(),
  deliver: z.boolean().optional(),
  channel: z.string().min(1).optional(),
  to: z.string().min(1).optional(),
  accountId: z.string().min(1).optional(),
  model: z.string().optional(),
  timeoutSeconds: z.number().positive().optional(),
});

/** Validates the `hooks` section. */
export const HooksSectionSchema: z.ZodType<HooksSection> = z.looseObject({
  enabled: z.boolean().optional(),
  token: z.unknown().optional(),
  path: z.string().startsWith("/", "hooks.path must start with /")
    .refine((p) => p.replace(/\/+$/, "") !== "", "hooks.path cannot be /; use a sub-path such as /hooks")
    .optional(),
  maxBodyBytes: z.number().int().positive().optional(),
  defaultSessionKey: z.string().min(1).optional(),
  allowRequestSessionKey: z.boolean().optional(),
  allowedSessionKeyPrefixes: z.array(z.string().min(1)).optional(),
  allowedAgentIds: z.array(z.string()).optional(),
  // An allowlist, not a flag: a caller-chosen recipient could receive whatever the run was led to read.
  allowedTargets: z.array(z.string().min(1)).optional(),
  presets: z.array(z.string()).optional(),
  mappings: z.array(MappingSchema).optional(),
  transformsDir: z.string().optional(),
}).superRefine((hooks, ctx) => {
  if (hooks.enabled && (hooks.token === undefined || hooks.token === "")) {
    ctx.addIssue({ code: "custom", path: ["token"], message: "hooks.enabled needs a non-empty hooks.token" });
  }
});
