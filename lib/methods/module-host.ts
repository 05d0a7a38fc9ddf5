/**
 * What the core's built-in feature modules (devices, exec approvals) use of the module context, typed
 * here so `methods/` needs no import of the context's own types.
 *
 * @module
 */
import type { MethodScope } from "../protocol/scopes.ts";
import type { AnyMethod } from "./descriptor.ts";
import type { LazyMethod } from "./lazy.ts";

/** An event as the built-in modules publish it (a subset of the bus's `BusEvent`). */
export interface BuiltInEvent {
  event: string;
  payload: unknown;
  scope?: MethodScope;
  internal?: boolean;
  dropIfSlow?: boolean;
}

/** Where built-in modules publish events: the gateway's event bus. */
export interface BuiltInEventSink {
  publish(event: BuiltInEvent): void;
}

/** The part of the module context a built-in module sets up through. */
export interface BuiltInModuleHost {
  registerMethod(method: AnyMethod | LazyMethod): void;
  declareEvents(names: readonly string[]): void;
  bus: BuiltInEventSink & { subscribe(listener: (event: BuiltInEvent) => void): () => void };
  onStop(hook: () => void): void;
}
