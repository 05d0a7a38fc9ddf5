/**
 * The method registry: name → scope + handler, and the single dispatch path every caller (socket,
 * HTTP, in-process) goes through so scope checks cannot be skipped.
 *
 * @module
 */
import { GatewayError, missingScope } from "../errors.ts";
import { type MethodScope, scopeSatisfied } from "../protocol/scopes.ts";
import type { CallerIdentity, MethodCall, MethodDefinition, MethodHandler } from "../types.ts";

/** Holds registered methods and dispatches calls to them. */
export class MethodRegistry {
  #methods = new Map<string, MethodDefinition>();

  register(name: string, scope: MethodScope, handler: MethodHandler): void {
    if (!name || name === "connect") {
      throw new Error(`method name ${JSON.stringify(name)} is reserved or empty`);
    }
    if (this.#methods.has(name)) throw new Error(`method ${name} is already registered`);
    this.#methods.set(name, { name, scope, handler });
  }

  has(name: string): boolean {
    return this.#methods.has(name);
  }

  names(): string[] {
    return [...this.#methods.keys()];
  }

  /** Checks the caller may call `method`; throws the wire error otherwise. */
  authorize(method: string, caller: CallerIdentity): MethodDefinition {
    const def = this.#methods.get(method);
    if (!def) throw new GatewayError("INVALID_REQUEST", `unknown method: ${method}`);
    if (def.scope !== "none" && caller.role !== "operator") {
      throw new GatewayError("FORBIDDEN", `method ${method} requires role operator`, {
        details: { code: "ROLE_MISMATCH", requiredRole: "operator" },
      });
    }
    if (!scopeSatisfied(caller.scopes, def.scope)) throw missingScope(def.scope);
    return def;
  }

  /** Authorizes and runs one call. */
  async dispatch(call: Omit<MethodCall, "caller"> & { caller: CallerIdentity }): Promise<unknown> {
    const def = this.authorize(call.method, call.caller);
    return await def.handler(call);
  }
}
