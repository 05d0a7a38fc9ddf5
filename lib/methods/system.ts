/**
 * Built-in methods every gateway has: `health`, `status`, `system-presence`, `logs.tail`.
 *
 * @module
 */
import * as z from "zod";
import type { LogTailSource } from "../log/tail.ts";
import type { PresenceEntry } from "../state/presence.ts";
import { GATEWAY_VERSION } from "../version.ts";
import { type AnyMethod, anyParams, defineMethod } from "./descriptor.ts";

/** Read-only gateway state the system methods report. */
export interface SystemState {
  /** The health snapshot (`health`, `hello-ok.snapshot.health`). */
  health(): Promise<Record<string, unknown>>;
  /** Who is connected. */
  presence(): Promise<PresenceEntry[]>;
  /** Milliseconds since the gateway started. */
  uptimeMs(): number;
  /** Open sockets. */
  connections(): number;
  /** The auth mode in force. */
  authMode(): string;
  /** Where the gateway listens, once it does. */
  address(): { hostname: string; port: number } | undefined;
  /** Every registered method name. */
  methods(): string[];
  /** What modules add to `status` (agents and their models, channels, ...), as `view` may see it. */
  sections(view: { admin: boolean }): Promise<Record<string, unknown>[]>;
}

/** The parts of the gateway context the system methods use. */
export interface SystemHost {
  /** The gateway clock. */
  now(): number;
  /** Bumps a state version (`health`). */
  bumpStateVersion(key: string): Promise<number>;
  /** Where the `health` event goes out. */
  readonly bus: {
    publish(event: { event: string; payload: unknown; stateVersion?: { health?: number } }): void;
  };
  /** Where the methods are registered. */
  registerMethod(method: AnyMethod): void;
  /** Where a failed broadcast is reported (the caller still gets its snapshot). */
  readonly logger: { warn(message: string, fields?: Record<string, unknown>): void };
}

/** Minimum gap between `health` events caused by `health` calls. */
const HEALTH_BROADCAST_INTERVAL_MS = 1_000;

const LogsTailParams = z.strictObject({
  cursor: z.number().int().nonnegative().optional(),
  limit: z.number().int().min(1).max(5000).optional(),
  maxBytes: z.number().int().min(1).max(1_000_000).optional(),
});

const LogsTailResult = z.object({
  file: z.string(),
  cursor: z.number(),
  size: z.number(),
  lines: z.array(z.string()),
  truncated: z.boolean().optional(),
  reset: z.boolean().optional(),
});

const StatusResult = z.object({
  runtimeVersion: z.string(),
  uptimeMs: z.number(),
  connections: z.number(),
  authMode: z.string(),
  methods: z.number(),
});

const PresenceResult = z.array(z.object({ ts: z.number() }));

/** The system methods over the gateway's state. */
export function systemMethods(state: SystemState, logs: () => LogTailSource, host: SystemHost): AnyMethod[] {
  let lastBroadcast = -Infinity;
  return [
    defineMethod({
      name: "health",
      scope: "operator.read",
      params: z.looseObject({ probe: z.boolean().optional() }),
      result: z.record(z.string(), z.unknown()),
      handler: async () => {
        const snapshot = await state.health();
        // A fresh snapshot is news for every client (they track stateVersion.health), but a client
        // polling health must not turn into a broadcast storm: at most one event per interval.
        const now = host.now();
        if (now - lastBroadcast < HEALTH_BROADCAST_INTERVAL_MS) return snapshot;
        lastBroadcast = now;
        // The caller asked for the snapshot, not the broadcast: a state store that is down costs the event.
        return host.bumpStateVersion("health").then((health) => {
          host.bus.publish({ event: "health", payload: snapshot, stateVersion: { health } });
          return snapshot;
        }, (error) => {
          host.logger.warn("health broadcast skipped: the state version could not be bumped", {
            error: String(error),
          });
          return snapshot;
        });
      },
    }),
    defineMethod({
      name: "status",
      scope: "operator.read",
      params: anyParams,
      result: StatusResult,
      handler: async ({ caller }) => {
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
          ...Object.assign({}, ...await state.sections({ admin })),
        };
      },
    }),
    defineMethod({
      name: "system-presence",
      scope: "operator.read",
      params: anyParams,
      result: PresenceResult,
      handler: () => state.presence(),
    }),
    defineMethod({
      name: "logs.tail",
      scope: "operator.read",
      params: LogsTailParams,
      result: LogsTailResult,
      handler: ({ params }) => logs().tail(params),
    }),
  ];
}

/** The module that registers the built-in methods. */
export function systemModule(
  state: SystemState,
  logs: () => LogTailSource,
): { name: string; setup(host: SystemHost): void } {
  return {
    name: "system",
    setup(host) {
      for (const method of systemMethods(state, logs, host)) host.registerMethod(method);
    },
  };
}
