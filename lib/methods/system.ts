/**
 * Built-in methods every gateway has: `health`, `status`, `system-presence`, `logs.tail`.
 *
 * @module
 */
import { z } from "zod";
import { invalidParams } from "../errors.ts";
import type { LogTailSource } from "../log/tail.ts";
import { describeIssue } from "../protocol/frames.ts";
import type { PresenceEntry } from "../state/presence.ts";
import type { GatewayContext, GatewayModule } from "../types.ts";
import { GATEWAY_VERSION } from "../version.ts";

/** Read-only gateway state the system methods report. */
export interface SystemState {
  health(): Record<string, unknown>;
  presence(): Promise<PresenceEntry[]>;
  uptimeMs(): number;
  connections(): number;
  authMode(): string;
  address(): { hostname: string; port: number } | undefined;
  methods(): string[];
  /** What modules add to `status` (agents and their models, channels, ...). */
  sections(): Record<string, unknown>[];
}

/** Minimum gap between `health` events caused by `health` calls. */
const HEALTH_BROADCAST_INTERVAL_MS = 1_000;

const LogsTailParamsSchema = z.object({
  cursor: z.number().int().nonnegative().optional(),
  limit: z.number().int().min(1).max(5000).optional(),
  maxBytes: z.number().int().min(1).max(1_000_000).optional(),
}).strict();

const HealthParamsSchema = z.looseObject({ probe: z.boolean().optional() });

/** Parses `params` with `schema` or throws `INVALID_REQUEST` naming the bad field. */
export function parseParams<T>(method: string, schema: z.ZodType<T>, params: unknown): T {
  const result = schema.safeParse(params ?? {});
  if (!result.success) throw invalidParams(method, describeIssue(result.error));
  return result.data;
}

/** The module that registers the built-in methods. */
export function systemModule(state: SystemState, logs: () => LogTailSource): GatewayModule {
  return {
    name: "system",
    setup(ctx: GatewayContext) {
      let lastBroadcast = -Infinity;
      ctx.registerMethod("health", "operator.read", ({ params }) => {
        parseParams("health", HealthParamsSchema, params);
        const snapshot = state.health();
        // A fresh snapshot is news for every client (they track stateVersion.health), but a client
        // polling health must not turn into a broadcast storm: at most one event per interval.
        const now = ctx.now();
        if (now - lastBroadcast < HEALTH_BROADCAST_INTERVAL_MS) return snapshot;
        lastBroadcast = now;
        return ctx.bumpStateVersion("health").then(() => {
          ctx.bus.publish({ event: "health", payload: snapshot });
          return snapshot;
        });
      });
      ctx.registerMethod("status", "operator.read", ({ caller }) => {
        const admin = caller.scopes.includes("operator.admin");
        const address = state.address();
        return {
          runtimeVersion: GATEWAY_VERSION,
          uptimeMs: state.uptimeMs(),
          connections: state.connections(),
          authMode: state.authMode(),
          // Where the gateway listens is sensitive on shared hosts: admins only.
          ...(admin && address ? { bind: address } : {}),
          methods: state.methods().length,
          ...Object.assign({}, ...state.sections()),
        };
      });
      ctx.registerMethod("system-presence", "operator.read", () => state.presence());
      ctx.registerMethod("logs.tail", "operator.read", ({ params }) => {
        return logs().tail(parseParams("logs.tail", LogsTailParamsSchema, params));
      });
    },
  };
}
