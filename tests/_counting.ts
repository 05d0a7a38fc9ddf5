// A method and hook turns that only count how often they really ran, for the tests that check a keyed
// call or delivery runs once (on one gateway, or across replicas).
import type { AgentTurns } from "../lib/channels/turns.ts";
import { z } from "zod";
import { defineMethod, type GatewayModule } from "../mod.ts";

/** The hooks token of the gateways these tests build. */
export const HOOK_TOKEN = "hook-token-0123456789";

/** A module with one method, `test.count`, that counts how often it really ran, on whichever replica. */
export function countingModule(runs: { n: number }): GatewayModule {
  return {
    name: "counting",
    setup(ctx) {
      ctx.registerMethod(defineMethod({
        name: "test.count",
        scope: "operator.write",
        // Callers vary the other params to tell one keyed request from another.
        params: z.looseObject({ idempotencyKey: z.string().min(1) }),
        handler: () => ({ n: ++runs.n }),
      }));
    },
  };
}

/** Turns that start nothing but a counted run id. */
export function countingTurns(runs: { n: number }): AgentTurns {
  return {
    start: (request) => ({
      runId: `run-${++runs.n}`,
      agentId: "main",
      sessionKey: request.sessionKey ?? "main",
      done: new Promise(() => {}),
    }),
    hasAgent: (id) => id === "main",
    defaultAgentId: () => "main",
    sessionKey: (agentId, sessionKey = "main") => `agent:${agentId}:${sessionKey}`,
  };
}
