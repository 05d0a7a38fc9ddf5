/**
 * Decides what a config edit means for a running gateway: which dotted paths changed, which of them apply
 * in place and which need the server restarted, following OpenClaw's table (everything under `gateway.*`
 * restarts except `gateway.reload` and `gateway.remote`; so do `discovery`, `browser`, `plugins.load`,
 * `plugins.installs` and `secrets.egressProxy.enabled`; the rest hot-applies).
 *
 * @module
 */
import type { GatewayConfig } from "./schema.ts";
import { isPlainObject } from "./source.ts";

/** `gateway.reload.mode`. `hot` and `restart` are OpenClaw's retired modes, still honoured here. */
export type ReloadMode = "off" | "hot" | "restart" | "hybrid";

/** What the runner should do about an edit. */
export type ReloadAction = "none" | "hot" | "restart";

/** The outcome of {@link planReload}. */
export interface ReloadPlan {
  action: ReloadAction;
  changedPaths: string[];
  /** Paths applied in place. */
  hotPaths: string[];
  /** Paths that need the server restarted. */
  restartPaths: string[];
  /** Restart paths that the mode leaves unapplied until the next manual restart (`hot` mode). */
  deferredPaths: string[];
}

const RESTART_PREFIXES = [
  "gateway",
  "discovery",
  "browser",
  "plugins.load",
  "plugins.installs",
  "secrets.egressProxy.enabled",
];
const HOT_EXCEPTIONS = ["gateway.reload", "gateway.remote"];

function underPrefix(path: string, prefix: string): boolean {
  return path === prefix || path.startsWith(`${prefix}.`);
}

/** Whether a change at `path` needs the server restarted. */
export function requiresRestart(path: string): boolean {
  if (HOT_EXCEPTIONS.some((p) => underPrefix(path, p))) return false;
  return RESTART_PREFIXES.some((p) => underPrefix(path, p) || underPrefix(p, path));
}

/**
 * Dotted paths whose values differ. Objects are compared key by key; arrays and scalars as whole values,
 * so a changed list reports the list's path once.
 */
export function diffConfigPaths(previous: unknown, next: unknown, prefix = ""): string[] {
  if (isPlainObject(previous) && isPlainObject(next)) {
    const keys = new Set([...Object.keys(previous), ...Object.keys(next)]);
    return [...keys].sort().flatMap((key) =>
      diffConfigPaths(previous[key], next[key], prefix ? `${prefix}.${key}` : key)
    );
  }
  return sameValue(previous, next) ? [] : [prefix || "(root)"];
}

function sameValue(a: unknown, b: unknown): boolean {
  if (a === b) return true;
  if (typeof a !== "object" || typeof b !== "object" || a === null || b === null) return false;
  return JSON.stringify(a) === JSON.stringify(b);
}

/** Plans the reload from the previous and next validated configs under `mode`. */
export function planReload(previous: unknown, next: unknown, mode: ReloadMode): ReloadPlan {
  const changedPaths = diffConfigPaths(previous, next);
  const restartPaths = changedPaths.filter(requiresRestart);
  const hotPaths = changedPaths.filter((p) => !requiresRestart(p));
  const plan = { changedPaths, hotPaths, restartPaths, deferredPaths: [] as string[] };
  if (changedPaths.length === 0 || mode === "off") return { ...plan, action: "none" };
  if (mode === "restart") return { ...plan, action: "restart" };
  if (mode === "hot") {
    return { ...plan, deferredPaths: restartPaths, action: hotPaths.length ? "hot" : "none" };
  }
  return { ...plan, action: restartPaths.length ? "restart" : "hot" };
}

/** Reload mode in force for a config (`hybrid` unless set). */
export function reloadModeOf(config: GatewayConfig): ReloadMode {
  return config.gateway?.reload?.mode ?? "hybrid";
}
