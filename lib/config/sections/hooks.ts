/**
 * The `hooks` section of `openclaw.json`: the inbound webhook endpoints (`/hooks/wake`, `/hooks/agent`,
 * mapped `/hooks/<name>`), named as OpenClaw names them. Unknown keys are kept.
 *
 * @module
 */
import * as z from "zod";

/** What a mapped hook does with a payload. */
export interface HookMappingConfig {
  /** Name of the mapping in logs; defaults to `match.path`. */
  id?: string;
  /** `path` matches the sub-path after `hooks.path`; `source` matches the payload's `source` field. */
  match?: { path?: string; source?: string; [key: string]: unknown };
  /**
   * `agent` runs an agent turn with `messageTemplate`; `wake` posts a system event built with `textTemplate`.
   */
  action?: "wake" | "agent";
  /** The agent that handles it; the default agent when omitted. */
  agentId?: string;
  /** Name of the hook, shown to the agent in the framing of the untrusted payload. */
  name?: string;
  /** May hold `{{payload.path}}` templates; a templated key counts as caller-supplied. */
  sessionKey?: string;
  /** `isolated` (default) starts a fresh session per call; `persistent` reuses `sessionKey`. */
  sessionMode?: "isolated" | "persistent";
  /** The agent message (`agent`) built from the payload with `{{...}}` templates. */
  messageTemplate?: string;
  /** The system event text (`wake`) built from the payload. */
  textTemplate?: string;
  /**
   * For `wake`: `now` (default) runs a turn at once; `next-heartbeat` queues the event for the session's next
   * heartbeat or hook turn.
   */
  wakeMode?: "now" | "next-heartbeat";
  /** Whether the reply is sent on to `channel`/`to`; default true when both are set. */
  deliver?: boolean;
  /** Channel id the reply is delivered on, such as `telegram`. */
  channel?: string;
  /** Recipient on that channel (a chat id). */
  to?: string;
  /** Channel account to deliver from; the channel's default account when omitted. */
  accountId?: string;
  /** A `provider/model` override for the turn. */
  model?: string;
  /** OpenClaw's per-run timeout for mapped hooks; accepted and kept, not applied by this gateway. */
  timeoutSeconds?: number;
  /** Keys OpenClaw knows that this gateway does not use; kept so a shared config loads. */
  [key: string]: unknown;
}

/** The whole `hooks` section. */
export interface HooksSection {
  /** Serves the hook endpoints when true; off by default. */
  enabled?: boolean;
  /** A string, or a SecretRef the runner resolves. Must differ from the gateway's own secrets. */
  token?: unknown;
  /** URL path prefix of the hook endpoints; default `/hooks`. */
  path?: string;
  /** Largest accepted request body; 256 KiB by default. */
  maxBodyBytes?: number;
  /** Session key for hook turns that name none; a fresh `hook:<uuid>` session per call otherwise. */
  defaultSessionKey?: string;
  /** Whether a request may choose its own `sessionKey`; default false. */
  allowRequestSessionKey?: boolean;
  /** Prefixes a request-chosen or persistent session key must start with; none means any (when allowed). */
  allowedSessionKeyPrefixes?: string[];
  /** Omitted or `["*"]`: any agent; `[]`: none. */
  allowedAgentIds?: string[];
  /**
   * Where a request may ask for the reply to be delivered: `<channel>:<to>`, `<channel>:*` or `*`. None by
   * default, so a hook caller cannot pick a recipient; targets written in `mappings` need no entry.
   */
  allowedTargets?: string[];
  /** OpenClaw's named mapping bundles (e.g. `gmail`); accepted and kept, not applied by this gateway. */
  presets?: string[];
  /** Mapped hooks, `/hooks/<name>` routes that turn a payload into a wake or an agent turn. */
  mappings?: HookMappingConfig[];
  /** OpenClaw's directory of JavaScript payload transforms; accepted and kept, not run by this gateway. */
  transformsDir?: string;
  /** Keys OpenClaw knows that this gateway does not use; kept so a shared config loads. */
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
