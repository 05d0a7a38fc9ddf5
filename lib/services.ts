/**
 * How modules find each other: one module provides a service under a typed key, others look it up on
 * the gateway context. A lookup made while modules are still being set up waits for the provider, so
 * the order modules are listed in does not matter.
 *
 * @example
 * ```ts
 * import { ServiceDirectory, serviceKey } from "./services.ts";
 *
 * const CLOCK = serviceKey<() => number>("clock");
 * const services = new ServiceDirectory();
 * let now: number | undefined;
 * services.whenProvided(CLOCK, (clock) => now = clock()); // before the provider: runs later
 * services.provide(CLOCK, () => 42);
 * if (now !== 42 || services.get(CLOCK)() !== 42) throw new Error("not provided");
 * ```
 *
 * @module
 */

/** Names a service and carries its type; create one per service with {@link serviceKey}. */
export interface ServiceKey<T> {
  /** Shown in errors (`agents.runtime`). */
  readonly name: string;
  /** Never set: only carries `T` for type inference. */
  readonly type?: T;
}

/**
 * A key for a service of type `T`. Keys are compared by identity, so export one constant per service.
 *
 * @example One module provides a service, another uses it, in either order
 * ```ts
 * import { createGateway, type GatewayModule, serviceKey } from "@openclaw-ts/gateway";
 *
 * const GREETER = serviceKey<(name: string) => string>("app.greeter");
 * let greeting = "";
 * const user: GatewayModule = {
 *   name: "greeting-user",
 *   setup: (context) => context.whenProvided(GREETER, (greet) => greeting = greet("Ada")),
 * };
 * const provider: GatewayModule = {
 *   name: "greeter",
 *   setup: (context) => context.provide(GREETER, (name) => `hello, ${name}`),
 * };
 * const gateway = createGateway({
 *   config: { gateway: { auth: { token: "s3cret" } } },
 *   modules: [user, provider],
 * });
 * await gateway.start();
 * if (greeting !== "hello, Ada") throw new Error(greeting);
 * await gateway.stop();
 * ```
 */
export function serviceKey<T>(name: string): ServiceKey<T> {
  return Object.freeze({ name });
}

/** The services provided in one gateway. */
export class ServiceDirectory {
  #services = new Map<ServiceKey<unknown>, unknown>();
  #waiting = new Map<ServiceKey<unknown>, ((service: unknown) => void)[]>();

  /** Makes `service` available under `key` and hands it to everyone waiting for it. */
  provide<T>(key: ServiceKey<T>, service: T): void {
    if (this.#services.has(key)) throw new Error(`service ${key.name} is already provided`);
    this.#services.set(key, service);
    const waiting = this.#waiting.get(key) ?? [];
    this.#waiting.delete(key);
    for (const use of waiting) use(service);
  }

  /** The service under `key`; throws when no module provides it (yet). */
  get<T>(key: ServiceKey<T>): T {
    if (!this.#services.has(key)) {
      throw new Error(`no module provides ${key.name}: install the module that does`);
    }
    return this.#services.get(key) as T;
  }

  /** Whether something is provided under `key`. */
  has(key: ServiceKey<unknown>): boolean {
    return this.#services.has(key);
  }

  /** Runs `use` with the service once it is provided: now if it is, else when its module sets up. */
  whenProvided<T>(key: ServiceKey<T>, use: (service: T) => void): void {
    if (this.#services.has(key)) return use(this.#services.get(key) as T);
    const waiting = this.#waiting.get(key) ?? [];
    waiting.push(use as (service: unknown) => void);
    this.#waiting.set(key, waiting);
  }
}
