/**
 * The agents methods an idle gateway does not call (session create/patch/delete, compaction, and the
 * Control UI's agent and chat lookups), registered by name and scope and imported on the first call to
 * any of them: their handlers and zod schemas are a fifth of the agents feature's code.
 *
 * @module
 */
import type { GatewayContext } from "../types.ts";
import { type LazyMethod, lazyMethods } from "../methods/lazy.ts";
import type { AnyMethod } from "../methods/descriptor.ts";
import { once } from "../once.ts";
import type { AgentRuntime } from "./runtime.ts";

const LIFECYCLE = {
  "sessions.create": "operator.write",
  "sessions.patch": "operator.write",
  "sessions.delete": "operator.write",
} as const;

const COMPACTION = { "sessions.compact": "operator.admin" } as const;

const UI = {
  "agents.list": "operator.read",
  "agent.identity.get": "operator.read",
  "chat.metadata": "operator.read",
  "chat.startup": "operator.read",
  "sessions.describe": "operator.read",
  "models.authStatus": "operator.read",
  "sessions.branches.list": "operator.read",
  "sessions.companion.state": "operator.read",
  "sessions.observer.visibility": "operator.read",
  "progressCard.get": "operator.read",
} as const;

/** The on-demand methods in three groups, each registered where its eager descriptors used to be. */
export interface OnDemandAgentMethods {
  /** `sessions.create`, `sessions.patch`, `sessions.delete`. */
  lifecycle: LazyMethod[];
  /** `sessions.compact`. */
  compaction: LazyMethod[];
  /** The Control UI's lookups (`agents.list`, `chat.metadata`, ...). */
  ui: LazyMethod[];
}

/** The on-demand methods over `runtime`; the first call to any of them imports and builds them all. */
export function onDemandAgentMethods(
  context: GatewayContext,
  runtime: AgentRuntime,
  chatHistory: AnyMethod,
): OnDemandAgentMethods {
  const load = once(async (): Promise<AnyMethod[]> => {
    const [lifecycle, compaction, ui] = await Promise.all([
      import("./session-lifecycle-methods.ts"),
      import("./compaction.ts"),
      import("./ui-methods.ts"),
    ]);
    return [
      ...lifecycle.sessionLifecycleMethods(context, runtime),
      compaction.compactMethod(context, runtime),
      ...ui.agentUiMethods(context, runtime, chatHistory),
    ];
  });
  return {
    lifecycle: lazyMethods(LIFECYCLE, load),
    compaction: lazyMethods(COMPACTION, load),
    ui: lazyMethods(UI, load),
  };
}
