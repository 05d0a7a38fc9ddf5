/**
 * The method registry: name → descriptor, and the single dispatch path every caller (socket, HTTP,
 * in-process) goes through, so scope checks and param validation cannot be skipped and happen once.
 *
 * @module
 */
import { GatewayError, missingScope } from "../errors.ts";
import { NODE_ROLE_SCOPE, scopeSatisfied } from "../protocol/scopes.ts";
import type { AnyMethod, CallerIdentity, MethodCall } from "./descriptor.ts";
import { isLazyMethod, type LazyMethod } from "./lazy.ts";
import { parseMethodParams } from "./param-errors.ts";

/** Options for {@link MethodRegistry}. */
export interface MethodRegistryOptions {
  /**
   * Checks every result against its method's `result` schema and fails the call when it does not
   * match. For tests: it costs a parse per call.
   */
  checkResults?: boolean;
}

/** Holds registered methods and dispatches calls to them. */
export class MethodRegistry {
  #methods = new Map<string, AnyMethod | LazyMethod>();
  #checkResults: boolean;

  /** An empty registry. */
  constructor(options: MethodRegistryOptions = {}) {
    this.#checkResults = options.checkResults === true;
  }

  /** Adds a method (or one loaded on its first call); names are unique and `connect` is the handshake's. */
  register(method: AnyMethod | LazyMethod): void {
    const name = method.name;
    if (!name || name === "connect") {
      throw new Error(`method name ${JSON.stringify(name)} is reserved or empty`);
    }
    if (this.#methods.has(name)) throw new Error(`method ${name} is already registered`);
    this.#methods.set(name, method);
  }

  /** Whether `name` is registered. */
  has(name: string): boolean {
    return this.#methods.has(name);
  }

  /** Every registered name, in registration order. */
  names(): string[] {
    return [...this.#methods.keys()];
  }

  /** Checks the caller may call `method`; throws the wire error otherwise. */
  authorize(method: string, caller: CallerIdentity): AnyMethod | LazyMethod {
    const def = this.#methods.get(method);
    if (!def) throw new GatewayError("INVALID_REQUEST", `unknown method: ${method}`);
    // `health` is every connected client's liveness check, whatever its role or scopes (as the reference).
    if (method === "health") return def;
    // Node methods are for nodes, every other method for operators; the wording is the reference's.
    const role = def.scope === NODE_ROLE_SCOPE ? "node" : "operator";
    if (def.scope !== "none" && caller.role !== role) {
      throw new GatewayError("INVALID_REQUEST", `unauthorized role: ${caller.role}`);
    }
    if (role === "operator" && !scopeSatisfied(caller.scopes, def.scope)) throw missingScope(def.scope);
    return def;
  }

  /** Authorizes, validates params and runs one call. */
  async dispatch(call: MethodCall): Promise<unknown> {
    const entry = this.authorize(call.method, call.caller);
    const def = isLazyMethod(entry) ? await this.#load(entry) : entry;
    const parsed = parseMethodParams(def.name, def.params, call.params);
    // zod schemas answer synchronously: no extra await on that path, so replies keep their timing.
    const params = parsed instanceof Promise ? await parsed : parsed;
    const result = await def.handler({ ...call, params });
    if (this.#checkResults && def.result) {
      const checked = await def.result["~standard"].validate(result);
      if (checked.issues) {
        const problems = checked.issues.map((issue) => issue.message).join("; ");
        throw new Error(`${def.name} result does not match its schema: ${problems}`);
      }
    }
    return result;
  }

  /** Loads a lazy method (its `load` shares one load between concurrent first calls) and puts it in its place. */
  async #load(lazy: LazyMethod): Promise<AnyMethod> {
    const method = await lazy.load();
    if (method.name !== lazy.name || method.scope !== lazy.scope) {
      throw new Error(`${lazy.name} loaded as ${method.name} with scope ${method.scope}, not ${lazy.scope}`);
    }
    this.#methods.set(lazy.name, method);
    return method;
  }
}
