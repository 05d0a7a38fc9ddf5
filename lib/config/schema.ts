/**
 * The root of `openclaw.json`. Each section lives in `sections/`; this file only assembles them and
 * turns validation failures into messages that name the offending path.
 *
 * @module
 */
import * as z from "zod";
import { type AgentsSection, AgentsSectionSchema } from "./sections/agents.ts";
import { type ChannelsSection, ChannelsSectionSchema } from "./sections/channels.ts";
import { type CommandsSection, CommandsSectionSchema } from "./sections/commands.ts";
import { type GatewaySection, GatewaySectionSchema } from "./sections/gateway.ts";
import { type HooksSection, HooksSectionSchema } from "./sections/hooks.ts";
import { type LoggingSection, LoggingSectionSchema } from "./sections/logging.ts";
import { type ModelsSection, ModelsSectionSchema } from "./sections/models.ts";
import { type SecretsSection, SecretsSectionSchema } from "./sections/secrets.ts";
import { type ToolsSection, ToolsSectionSchema } from "./sections/tools.ts";
import { type UiSection, UiSectionSchema } from "./sections/ui.ts";

/** A parsed, validated `openclaw.json`. Sections this gateway does not know are kept as they are. */
export interface GatewayConfig {
  /**
   * Where and how the gateway listens and authenticates: port, bind address, auth, HTTP endpoints, Control
   * UI.
   */
  gateway?: GatewaySection;
  /** Log level, log file and console style. */
  logging?: LoggingSection;
  /** Where `${secret}` references in the config are resolved from. */
  secrets?: SecretsSection;
  /** Model providers (base URL, API key, models) that agents may call. */
  models?: ModelsSection;
  /** Agent defaults and the configured agents, keyed by agent id. */
  agents?: AgentsSection;
  /** Inbound webhooks under `/hooks`: token, path, mappings. */
  hooks?: HooksSection;
  /** Channel accounts (Telegram, signed webhooks) that feed messages to agents. */
  channels?: ChannelsSection;
  /** Settings of the browser Control UI. */
  ui?: UiSection;
  /** Who the owner is on each channel (`ownerAllowFrom`), where heartbeat alerts go by default. */
  commands?: CommandsSection;
  /** Tool policy, such as how far session tools may see (`tools.sessions.visibility`). */
  tools?: ToolsSection;
  /** Any other top-level section: kept unchanged so a shared `openclaw.json` round-trips. */
  [section: string]: unknown;
}

/** Validates a whole config object. */
export const GatewayConfigSchema: z.ZodType<GatewayConfig> = z.looseObject({
  gateway: GatewaySectionSchema.optional(),
  logging: LoggingSectionSchema.optional(),
  secrets: SecretsSectionSchema.optional(),
  models: ModelsSectionSchema.optional(),
  agents: AgentsSectionSchema.optional(),
  hooks: HooksSectionSchema.optional(),
  channels: ChannelsSectionSchema.optional(),
  ui: UiSectionSchema.optional(),
  tools: ToolsSectionSchema.optional(),
  commands: CommandsSectionSchema.optional(),
});

/** One validation problem, with the dotted path a person can find in their file. */
export interface ConfigIssue {
  /** Dotted path of the offending key, such as `gateway.port`, or `(root)`. */
  path: string;
  /** What is wrong there, in words a person can act on. */
  message: string;
}

/** The outcome of {@link validateConfig}. */
export type ConfigValidation =
  | { ok: true; config: GatewayConfig }
  | { ok: false; issues: ConfigIssue[] };

/**
 * Validates `raw` and reports every issue by dotted path instead of throwing.
 *
 * @example
 * ```ts
 * import { validateConfig } from "@openclaw-ts/gateway";
 *
 * const checked = validateConfig({ gateway: { port: "eighty" } });
 * if (checked.ok) throw new Error("a port must be a number");
 * if (checked.issues[0].path !== "gateway.port") throw new Error(JSON.stringify(checked.issues));
 * ```
 */
export function validateConfig(raw: unknown): ConfigValidation {
  const result = GatewayConfigSchema.safeParse(raw ?? {});
  if (result.success) return { ok: true, config: result.data };
  return {
    ok: false,
    issues: result.error.issues.map((issue) => ({
      path: issue.path.map(String).join(".") || "(root)",
      message: issue.message,
    })),
  };
}
