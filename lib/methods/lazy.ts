/**
 * Methods whose schemas and handlers are imported on their first call. A feature that is off or unused
 * (cron with no jobs, nodes with none connected) still answers every one of its methods, but a gateway
 * that never calls them never loads their code nor builds their zod schemas: both cost memory that an
 * idle gateway keeps for good.
 *
 * @example A method loaded on its first call
 * ```ts
 * import { z } from "zod";
 * import { createGateway, defineMethod, lazyMethods } from "@openclaw-ts/gateway";
 *
 * const loaded: string[] = [];
 * const gateway = createGateway({ config: { gateway: { auth: { token: "s3cret" } } } });
 * for (const method of lazyMethods({ "app.add": "operator.read" }, () => {
 *   loaded.push("app.add"); // in a real module: `(await import("./methods.ts")).methods()`
 *   return Promise.resolve([defineMethod({
 *     name: "app.add",
 *     scope: "operator.read",
 *     params: z.strictObject({ a: z.number(), b: z.number() }),
 *     handler: ({ params }) => ({ sum: params.a + params.b }),
 *   })]);
 * })) gateway.registerMethod(method);
 * await gateway.start();
 *
 * if (loaded.length) throw new Error("loaded before the first call");
 * const answer = await gateway.call("app.add", { a: 2, b: 3 }) as { sum: number };
 * if (answer.sum !== 5 || loaded.length !== 1) throw new Error(JSON.stringify({ answer, loaded }));
 * await gateway.stop();
 * ```
 *
 * @module
 */
import { once } from "../once.ts";
import type { MethodScope } from "../protocol/scopes.ts";
import type { AnyMethod } from "./descriptor.ts";

/**
 * A method known up front by name and scope (so the registry lists it and refuses callers without the
 * scope before anything loads); `load` resolves its full descriptor on the first call, once.
 */
export interface LazyMethod {
  /** The method name clients send. */
  readonly name: string;
  /** The scope a caller needs; the loaded descriptor must declare the same. */
  readonly scope: MethodScope;
  /**
   * Imports and builds the descriptor. Called on first calls until the registry holds the descriptor, so
   * concurrent first calls should share one load ({@link lazyMethods} does).
   */
  load(): Promise<AnyMethod>;
}

/** Whether a registered entry is still a {@link LazyMethod}. */
export function isLazyMethod(method: AnyMethod | LazyMethod): method is LazyMethod {
  return "load" in method && !("handler" in method);
}

/**
 * One {@link LazyMethod} per entry of `scopes` (name → scope), all served by one `load` that runs once,
 * on the first call to any of them (again after a load that failed), and returns the descriptors of them all.
 */
export function lazyMethods(
  scopes: Readonly<Record<string, MethodScope>>,
  load: () => Promise<readonly AnyMethod[]>,
): LazyMethod[] {
  const loading = once(load);
  return Object.entries(scopes).map(([name, scope]) => ({
    name,
    scope,
    async load() {
      const methods = await loading();
      const method = methods.find((candidate) => candidate.name === name);
      if (!method) throw new Error(`lazily loaded methods do not include ${name}`);
      return method;
    },
  }));
}
