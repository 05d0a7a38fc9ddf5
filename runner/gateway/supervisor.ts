/**
 * Keeps one gateway running on the last good config: loads and resolves config, starts the server,
 * applies edits the reload plan says are hot, restarts in-process for the rest, and refuses bad edits
 * while the old config keeps serving. Every change runs one at a time, in arrival order.
 *
 * @module
 */
import { planReload, reloadModeOf, type ReloadPlan } from "../../lib/config/reload-plan.ts";
import type { GatewayConfig } from "../../lib/config/schema.ts";
import type { SecretFailure, SecretResolution } from "../../lib/config/secrets.ts";
import { isGatewayAuthPath } from "../../lib/config/secrets.ts";
import { type ConfigSource, loadConfig, type LoadedConfig } from "../../lib/config/source.ts";
import type { Logger } from "../../lib/log/logger.ts";
import { hasUnresolvedPlaceholder } from "../config/env-substitution.ts";

/** The slice of the core gateway the supervisor drives (the core `Gateway` satisfies it). */
export interface ManagedGateway {
  start(): Promise<{ hostname: string; port: number } | undefined>;
  stop(options?: { reason?: string; restartExpectedMs?: number }): Promise<void>;
  updateConfig(
    next: unknown,
    source?: { path?: string; hash?: string },
  ): { ok: true } | { ok: false; issues: { path: string; message: string }[] };
}

/** A config ready to run: validated as authored, and with SecretRefs replaced by their values. */
export interface PreparedConfig {
  loaded: LoadedConfig;
  runtime: GatewayConfig;
  secrets: SecretResolution;
}

/** What happened to one file edit. */
export type ReloadOutcome =
  | { action: "skipped"; reason: string }
  | { action: "none" | "hot" | "restart"; plan: ReloadPlan };

/** What `secrets.reload` reports. */
export interface SecretsReloadOutcome {
  ok: boolean;
  warningCount: number;
  failures: SecretFailure[];
  error?: string;
}

/** Options for {@link GatewaySupervisor}. */
export interface SupervisorOptions {
  source: ConfigSource;
  createGateway(config: GatewayConfig): ManagedGateway | Promise<ManagedGateway>;
  resolveSecrets(config: GatewayConfig, previous?: SecretResolution): Promise<SecretResolution>;
  logger: Logger;
  /** Called after a config took effect (start, hot apply, restart), e.g. to retune log sinks. */
  onApplied?(prepared: PreparedConfig): void;
  /** Called with the address after every (re)start. */
  onListening?(address: { hostname: string; port: number } | undefined): void | Promise<void>;
  /** Tells clients how soon to reconnect after a restart. */
  restartExpectedMs?: number;
}

/** A config that cannot run: unresolvable gateway credentials. */
export class SecretsActivationError extends Error {
  constructor(message: string) {
    super(message);
    this.name = "SecretsActivationError";
  }
}

/** Runs a gateway and applies config changes to it. */
export class GatewaySupervisor {
  #current?: PreparedConfig;
  #gateway?: ManagedGateway;
  #queue: Promise<unknown> = Promise.resolve();
  #stopped = false;

  constructor(private readonly options: SupervisorOptions) {}

  /** The config in force (validated, secrets resolved). */
  get current(): PreparedConfig | undefined {
    return this.#current;
  }

  /** Loads, validates and resolves secrets; throws on anything that must stop a start or a reload. */
  async prepare(previous?: SecretResolution): Promise<PreparedConfig> {
    const loaded = await loadConfig(this.options.source);
    for (const warning of loaded.snapshot.warnings) this.options.logger.warn(warning);
    const secrets = await this.options.resolveSecrets(loaded.config, previous);
    const fatal = secrets.failures.filter((f) => isGatewayAuthPath(f.path) && f.state === "cold");
    if (fatal.length) {
      throw new SecretsActivationError(
        `cannot resolve ${
          fatal.map((f) => `${f.path} (${f.message})`).join("; ")
        }; gateway auth secrets must resolve`,
      );
    }
    for (const failure of secrets.failures) {
      this.options.logger.warn("SecretRef unresolved", {
        code: "SECRETS_REF_UNRESOLVED",
        path: failure.path,
        state: failure.state,
        reason: failure.message,
      });
    }
    const runtime = secrets.config as GatewayConfig;
    for (const key of ["token", "password"] as const) {
      const value = runtime.gateway?.auth?.[key];
      if (typeof value === "string" && hasUnresolvedPlaceholder(value)) {
        throw new SecretsActivationError(
          `gateway.auth.${key} refers to an unset variable (${value}); set it or remove the value`,
        );
      }
    }
    return { loaded, runtime, secrets };
  }

  /** First start. Throws when the config is invalid or the server cannot listen. */
  start(): Promise<{ hostname: string; port: number } | undefined> {
    return this.#enqueue(async () => {
      const prepared = await this.prepare();
      return await this.#launch(prepared);
    });
  }

  /** Re-reads the source and applies the edit per the reload plan. Never throws. */
  reload(): Promise<ReloadOutcome> {
    return this.#enqueue(async () => {
      if (this.#stopped || !this.#current) {
        return { action: "skipped" as const, reason: "gateway not running" };
      }
      let next: PreparedConfig;
      try {
        next = await this.prepare(this.#current.secrets);
      } catch (err) {
        const reason = err instanceof Error ? err.message : String(err);
        this.options.logger.warn(`config reload skipped (invalid config): ${reason}`);
        return { action: "skipped" as const, reason };
      }
      const plan = planReload(this.#current.runtime, next.runtime, reloadModeOf(next.runtime));
      if (plan.deferredPaths.length) {
        this.options.logger.warn("config change needs a restart to apply", { paths: plan.deferredPaths });
      }
      if (plan.action === "none") {
        // Hash and warnings may have moved on even when no value changed (comments, formatting).
        if (plan.deferredPaths.length === 0) this.#current = next;
        return { action: "none" as const, plan };
      }
      if (plan.action === "hot") {
        const applied = this.#gateway!.updateConfig(next.runtime, {
          path: next.loaded.snapshot.origin,
          hash: next.loaded.snapshot.hash,
        });
        if (!applied.ok) {
          const reason = applied.issues.map((i) => `${i.path}: ${i.message}`).join("; ");
          this.options.logger.warn(`config reload skipped (invalid config): ${reason}`);
          return { action: "skipped" as const, reason };
        }
        this.#current = next;
        this.options.onApplied?.(next);
        this.options.logger.info("config hot-applied", { paths: plan.hotPaths });
        return { action: "hot" as const, plan };
      }
      this.options.logger.info("config change requires a gateway restart", { paths: plan.restartPaths });
      await this.#restart(next, `config change: ${plan.restartPaths.join(", ")}`);
      return { action: "restart" as const, plan };
    });
  }

  /** Re-resolves SecretRefs without a restart; a failing gateway credential keeps the old snapshot. */
  reloadSecrets(): Promise<SecretsReloadOutcome> {
    return this.#enqueue(async () => {
      if (!this.#current) return { ok: false, warningCount: 0, failures: [], error: "gateway not running" };
      const current = this.#current;
      const secrets = await this.options.resolveSecrets(current.loaded.config, current.secrets);
      const fatal = secrets.failures.filter((f) => isGatewayAuthPath(f.path) && f.state === "cold");
      if (fatal.length) {
        const error = fatal.map((f) => `${f.path}: ${f.message}`).join("; ");
        this.options.logger.warn("secrets reload rejected; keeping the active snapshot", { error });
        return { ok: false, warningCount: secrets.failures.length, failures: secrets.failures, error };
      }
      const next: PreparedConfig = {
        loaded: current.loaded,
        runtime: secrets.config as GatewayConfig,
        secrets,
      };
      const applied = this.#gateway!.updateConfig(next.runtime);
      if (!applied.ok) {
        const error = applied.issues.map((i) => `${i.path}: ${i.message}`).join("; ");
        return { ok: false, warningCount: secrets.failures.length, failures: secrets.failures, error };
      }
      this.#current = next;
      this.options.onApplied?.(next);
      this.options.logger.info("secrets reloaded", {
        refs: secrets.values.size,
        warnings: secrets.failures.length,
      });
      return { ok: true, warningCount: secrets.failures.length, failures: secrets.failures };
    });
  }

  /** Stops and starts the server in-process on the config in force (SIGUSR1, `gateway restart`). */
  restart(reason: string): Promise<void> {
    return this.#enqueue(async () => {
      if (this.#current && !this.#stopped) await this.#restart(this.#current, reason);
    });
  }

  /** Graceful stop; later reloads are ignored. */
  stop(reason: string): Promise<void> {
    this.#stopped = true;
    return this.#enqueue(async () => {
      await this.#gateway?.stop({ reason });
      this.#gateway = undefined;
    });
  }

  async #launch(prepared: PreparedConfig): Promise<{ hostname: string; port: number } | undefined> {
    const gateway = await this.options.createGateway(prepared.runtime);
    const address = await gateway.start();
    this.#gateway = gateway;
    this.#current = prepared;
    this.options.onApplied?.(prepared);
    await this.options.onListening?.(address);
    return address;
  }

  async #restart(next: PreparedConfig, reason: string): Promise<void> {
    const previous = this.#current!;
    await this.#gateway?.stop({ reason, restartExpectedMs: this.options.restartExpectedMs ?? 1500 });
    this.#gateway = undefined;
    try {
      await this.#launch(next);
      this.options.logger.info("gateway restarted", { reason });
    } catch (err) {
      // The new config cannot run (a taken port, say): go back to the one that did.
      this.options.logger.error(
        `restart with the new config failed; restoring the previous one: ${(err as Error).message}`,
      );
      await this.#launch(previous);
    }
  }

  #enqueue<T>(task: () => Promise<T>): Promise<T> {
    const run = this.#queue.then(task, task);
    this.#queue = run.catch(() => {});
    return run;
  }
}
