/**
 * The gateway's observers (metrics and the like): the set modules add to, and the two ways the gateway
 * reports to them.
 *
 * @module
 */
import { toErrorShape } from "../errors.ts";
import type { Logger } from "../log/logger.ts";
import type { MethodRegistry } from "../methods/registry.ts";
import type { GatewayObserver } from "../types.ts";

/** The registered observers and the reporting helpers over them. */
export interface Observers {
  /** Every observer a module added (`context.observe`). */
  readonly observers: Set<GatewayObserver>;
  /** Calls `report` on every observer; one that throws is logged and skipped. */
  notify(report: (observer: GatewayObserver) => void): void;
  /** Runs a method call, reporting its outcome and duration to observers (when there are any). */
  observed(method: string, call: () => Promise<unknown>): Promise<unknown>;
}

/** Creates the observer set; `registry` tells known methods from unknown ones for the labels. */
export function createObservers(
  { logger, now, registry }: { logger: Logger; now: () => number; registry: MethodRegistry },
): Observers {
  const observers = new Set<GatewayObserver>();
  const notify = (report: (observer: GatewayObserver) => void) => {
    for (const observer of observers) {
      try {
        report(observer);
      } catch (error) {
        logger.warn("observer failed", { error: String(error) });
      }
    }
  };
  const observed = (method: string, call: () => Promise<unknown>): Promise<unknown> => {
    if (!observers.size) return call();
    const started = now();
    const label = registry.has(method) ? method : "unknown";
    const settled = (outcome: "ok" | "error", code?: string) =>
      notify((o) => o.request?.(label, outcome, code, now() - started));
    let result: Promise<unknown>;
    try {
      result = call();
    } catch (error) {
      result = Promise.reject(error);
    }
    return result.then(
      (value) => (settled("ok"), value),
      (error) => {
        settled("error", toErrorShape(error).code);
        throw error;
      },
    );
  };
  return { observers, notify, observed };
}
