/**
 * The tools every gateway ships: read-only and safe to expose. `current_time` and `echo` need nothing;
 * the session tools (`sessions_list`, `session_status`, `sessions_history`, `agents_list`) read the
 * agents runtime.
 *
 * @module
 */
import * as z from "zod";
import { historyMessage, sessionRow } from "../agents/rows.ts";
import type { AgentRuntime } from "../agents/runtime.ts";
import { canonicalSessionKey } from "../agents/session-keys.ts";
import { requireSessionVisible, sessionVisible } from "./session-visibility.ts";
import { type ToolDefinition, ToolInputError } from "./types.ts";

/** Parses tool arguments; the first problem becomes a 400 naming the field. */
function parseArgs<T>(schema: z.ZodType<T>, tool: string, args: unknown): T {
  const result = schema.safeParse(args ?? {});
  if (result.success) return result.data;
  const issue = result.error.issues[0];
  const path = issue.path.map(String).join(".");
  throw new ToolInputError(`invalid ${tool} arguments: ${path ? `${path}: ` : ""}${issue.message}`);
}

const TimeArgs = z.looseObject({ timeZone: z.string().min(1).optional() });

/** `current_time`: the gateway clock, optionally rendered in an IANA time zone. */
export const currentTimeTool: ToolDefinition = {
  name: "current_time",
  label: "Current time",
  description: "The gateway's current date and time, as ISO 8601 UTC and in an optional IANA time zone.",
  parameters: {
    type: "object",
    properties: { timeZone: { type: "string", description: "IANA zone such as Europe/Paris" } },
  },
  source: "core",
  group: "utility",
  risk: "low",
  profiles: ["minimal", "coding", "messaging", "full"],
  execute(args, context) {
    const { timeZone } = parseArgs(TimeArgs, "current_time", args);
    const now = context.now();
    const result: Record<string, unknown> = { iso: new Date(now).toISOString(), epochMs: now };
    if (timeZone) {
      try {
        result.timeZone = timeZone;
        result.local = new Intl.DateTimeFormat("en-CA", {
          timeZone,
          dateStyle: "short",
          timeStyle: "long",
          hourCycle: "h23",
        }).format(now);
      } catch {
        throw new ToolInputError(`unknown time zone '${timeZone}'; use an IANA name such as Europe/Paris`);
      }
    }
    return result;
  },
};

const EchoArgs = z.looseObject({ text: z.string() });

/** `echo`: returns its text unchanged; a probe that a tool round trip works. */
export const echoTool: ToolDefinition = {
  name: "echo",
  label: "Echo",
  description: "Returns the given text unchanged.",
  parameters: { type: "object", properties: { text: { type: "string" } }, required: ["text"] },
  source: "core",
  group: "utility",
  risk: "low",
  profiles: ["minimal", "coding", "messaging", "full"],
  execute(args) {
    return { text: parseArgs(EchoArgs, "echo", args).text };
  },
};

const ListArgs = z.looseObject({
  limit: z.number().int().min(1).max(500).optional(),
  agentId: z.string().min(1).optional(),
});
const StatusArgs = z.looseObject({ sessionKey: z.string().min(1).optional() });
const HistoryArgs = z.looseObject({
  sessionKey: z.string().min(1).optional(),
  limit: z.number().int().min(1).max(500).optional(),
});

/**
 * The tools that read sessions and agents from `runtime()`.
 *
 * @example Offer only the session tools, and call one as an operator
 * ```ts
 * import { agentsModule, createGateway, sessionTools, toolsModule } from "@openclaw-ts/gateway";
 *
 * const agents = agentsModule();
 * const tools = sessionTools(() => agents.runtime());
 * const gateway = createGateway({
 *   config: { gateway: { auth: { token: "s3cret" } } },
 *   modules: [agents, toolsModule({ agents, builtins: false, tools })],
 * });
 * await gateway.start();
 * const answer = await gateway.call("tools.invoke", { name: "sessions_list", args: {} }) as { ok: boolean };
 * if (!answer.ok) throw new Error(JSON.stringify(answer));
 * await gateway.stop();
 * ```
 */
export function sessionTools(runtime: () => AgentRuntime): ToolDefinition[] {
  const running = (key: string) => runtime().runs.active(key);
  // A short key (`main`, `my-thread`) names a session of the agent the call is made for.
  const keyFor = (raw: string | undefined, context: { sessionKey: string; agentId: string }) => {
    if (!raw) return context.sessionKey;
    try {
      return canonicalSessionKey(raw, context.agentId).key;
    } catch (error) {
      // A bad key is the caller's (or the model's) mistake, not a tool failure.
      throw new ToolInputError((error as Error).message);
    }
  };
  const common = { source: "core" as const, group: "sessions", risk: "low" as const };
  return [
    {
      ...common,
      name: "sessions_list",
      label: "List sessions",
      description: "Lists sessions, most recently active first, with their model, status and token counts.",
      parameters: {
        type: "object",
        properties: { limit: { type: "integer", minimum: 1, maximum: 500 }, agentId: { type: "string" } },
      },
      profiles: ["coding", "messaging", "full"],
      async execute(args, context) {
        const { limit = 50, agentId } = parseArgs(ListArgs, "sessions_list", args);
        const all = (await runtime().listSessions())
          .filter((s) => (!agentId || s.agentId === agentId) && sessionVisible(s.key, context))
          .sort((a, b) => b.updatedAt - a.updatedAt);
        return {
          count: Math.min(all.length, limit),
          totalCount: all.length,
          sessions: all.slice(0, limit).map((s) => sessionRow(s, running(s.key).length > 0)),
        };
      },
    },
    {
      ...common,
      name: "session_status",
      label: "Session status",
      description: "The status of one session (the current one by default): model, tokens, active runs.",
      parameters: { type: "object", properties: { sessionKey: { type: "string" } } },
      profiles: ["minimal", "coding", "messaging", "full"],
      async execute(args, context) {
        const key = keyFor(parseArgs(StatusArgs, "session_status", args).sessionKey, context);
        requireSessionVisible(key, context);
        const entry = await runtime().session(key);
        const active = running(key).map((r) => r.runId);
        const activity = { hasActiveRun: active.length > 0, activeRunIds: active };
        if (!entry) return { key, exists: false, ...activity };
        return { ...sessionRow(entry, active.length > 0), exists: true, ...activity };
      },
    },
    {
      ...common,
      name: "sessions_history",
      label: "Session history",
      description: "The latest transcript lines of a session (the current one by default).",
      parameters: {
        type: "object",
        properties: { sessionKey: { type: "string" }, limit: { type: "integer", minimum: 1, maximum: 500 } },
      },
      profiles: ["coding", "messaging", "full"],
      async execute(args, context) {
        const parsed = parseArgs(HistoryArgs, "sessions_history", args);
        const key = keyFor(parsed.sessionKey, context);
        requireSessionVisible(key, context);
        const entry = await runtime().session(key);
        const lines = entry ? await runtime().transcript(entry) : [];
        return { key, messages: lines.slice(-(parsed.limit ?? 20)).map(historyMessage) };
      },
    },
    {
      source: "core",
      group: "agents",
      risk: "low",
      name: "agents_list",
      label: "List agents",
      description: "The configured agents with their default models.",
      parameters: { type: "object", properties: {} },
      profiles: ["coding", "messaging", "full"],
      execute() {
        const catalog = runtime().agents();
        return {
          defaultAgentId: catalog.defaultAgentId,
          agents: catalog.agents.map((a) => ({ id: a.id, name: a.name, model: a.model })),
        };
      },
    },
  ];
}
