/**
 * The `tools` section of `openclaw.json`, as far as this gateway validates it: the tool policy's
 * `allow`/`deny` lists are read by lib/tools/policy.ts; `sessions.visibility` bounds the session tools.
 * Unknown keys are kept.
 *
 * @module
 */
import * as z from "zod";

/** Which sessions the session tools may read, in the reference's terms. */
export type SessionVisibility = "self" | "tree" | "agent" | "all";

/** When a command-running tool asks an operator first: never, unless trusted (`allow-always`), or always. */
export type ExecAsk = "off" | "on-miss" | "always";

/** What an unanswered approval falls back to: refuse, run only trusted commands, or run. */
export type ExecAskFallback = "deny" | "allowlist" | "full";

/** `tools.exec` (and an agent's `tools.exec`): the exec approval policy, in the reference's terms. */
export interface ExecPolicy {
  /** `off` by default. */
  ask?: ExecAsk;
  /** `deny` by default. */
  askFallback?: ExecAskFallback;
  /** Other keys of the reference's exec config, kept. */
  [key: string]: unknown;
}

const ExecPolicySchema: z.ZodType<ExecPolicy> = z.looseObject({
  ask: z.enum(["off", "on-miss", "always"]).optional(),
  askFallback: z.enum(["deny", "allowlist", "full"]).optional(),
});

/** The whole `tools` section. */
export interface ToolsSection {
  /** Tools an agent may call; every tool unless set. */
  allow?: string[];
  /** Tools an agent may never call. */
  deny?: string[];
  /** The exec approval policy of command-running tools. */
  exec?: ExecPolicy;
  /** What the session tools may read. */
  sessions?: {
    /**
     * Which sessions `sessions_list`, `sessions_history` and `session_status` may read. Runs started by
     * hooks and channels (outside content) default to `self`, so a crafted message cannot make the
     * agent read another conversation; setting this key widens them too.
     */
    visibility?: SessionVisibility;
    /** Other keys of the reference's tool config, kept. */
    [key: string]: unknown;
  };
  /** Other keys of the reference's tool config, kept. */
  [key: string]: unknown;
}

/** What hook- and channel-started runs get when `tools.sessions.visibility` is not set. */
export const EXTERNAL_SESSION_VISIBILITY: SessionVisibility = "self";

/** A tool policy: `tools` at the top level, and each agent's own `tools` (`agents.*.tools`). */
export interface ToolPolicy {
  /** Tools that may be called; every tool unless set. */
  allow?: string[];
  /** Tools that may never be called. */
  deny?: string[];
  /** The exec approval policy; an agent's own overrides the top-level one key by key. */
  exec?: ExecPolicy;
  /** Other keys of the reference's tool config, kept. */
  [key: string]: unknown;
}

const toolPolicyShape = {
  allow: z.array(z.string()).optional(),
  deny: z.array(z.string()).optional(),
  exec: ExecPolicySchema.optional(),
};

/** Validates a tool policy (the agents' `tools`). */
export const ToolPolicySchema: z.ZodType<ToolPolicy> = z.looseObject(toolPolicyShape);

/** Validates the `tools` section. */
export const ToolsSectionSchema: z.ZodType<ToolsSection> = z.looseObject({
  ...toolPolicyShape,
  sessions: z.looseObject({ visibility: z.enum(["self", "tree", "agent", "all"]).optional() }).optional(),
});
