/**
 * `openclaw gateway run`, end to end: config and guards, logs, the state lock, the server under a
 * supervisor, file watching for hot reload, and a graceful stop on SIGINT/SIGTERM.
 *
 * @module
 */
import { createGateway, type Gateway } from "../../lib/gateway.ts";
import type { GatewayConfig } from "../../lib/config/schema.ts";
import { resolveSecrets } from "../../lib/config/secrets.ts";
import { collectSecretValues } from "../../lib/log/secret-redactor.ts";
import {
  ConfigLoadError,
  type ConfigSource,
  loadConfig,
  type LoadedConfig,
} from "../../lib/config/source.ts";
import { bindHostFor } from "../../lib/auth/locality.ts";
import { GatewayError } from "../../lib/errors.ts";
import { denoTransport } from "../../lib/transports/deno.ts";
import type { GatewayModule } from "../../lib/types.ts";
import type { Logger } from "../../lib/log/logger.ts";
import type { CliContext, ProfilePaths } from "../command.ts";
import { CliError, EXIT } from "../cli/errors.ts";
import { homeDir } from "../cli/home-dir.ts";
import { resolveHome } from "../cli/profile-paths.ts";
import { hostSecretResolvers } from "../config/secret-providers.ts";
import { FileLogTail } from "../log/file-tail.ts";
import { gatewayConfigSource, type GatewayFlagOverrides } from "./config-layers.ts";
import { freePort } from "./free-port.ts";
import { acquireGatewayLock, type GatewayLock } from "./lock.ts";
import { ClusterStores } from "./cluster-stores.ts";
import { createRunnerLogging, type RunnerLogging } from "./logging.ts";
import { logOpenFileLimit, readOpenFileLimit } from "./open-files.ts";
import { secretsModule } from "../../lib/methods/secrets.ts";
import { tightenStateDir } from "./state-permissions.ts";
import { reloadModeOf } from "../../lib/config/reload-plan.ts";
import {
  GatewaySupervisor,
  type ManagedGateway,
  type PreparedConfig,
  SecretsActivationError,
} from "./supervisor.ts";

/** Everything `gateway run` was asked for. */
export interface GatewayRunOptions {
  overrides: GatewayFlagOverrides;
  allowUnconfigured: boolean;
  /** Create the dev config if missing (global `--dev` or `gateway --dev`). */
  dev: boolean;
  reset: boolean;
  force: boolean;
  verbose: boolean;
  /** Builds the feature modules for each gateway instance (agents, OpenAI endpoints, config methods, ...). */
  modules(paths: ProfilePaths): GatewayModule[];
  /** Seams for the host: is stdout a terminal, and how SIGUSR1 (restart in place) reaches us. */
  isTerminal: boolean;
  onRestartSignal?(listener: () => void): () => void;
}

const BIND_RETRY_DELAY_MS = 500;

/** Runs the gateway until the context's shutdown signal fires; returns the exit code. */
export async function runGateway(context: CliContext, options: GatewayRunOptions): Promise<number> {
  const { env, paths, output } = context;
  const home = resolveHome(env, homeDir());
  if (options.reset && !options.dev) throw new CliError("--reset requires --dev", EXIT.usage);
  const devToken = options.dev ? await prepareDevConfig(context, options.reset) : undefined;
  const { source, file } = gatewayConfigSource({
    configPath: paths.configPath,
    profile: paths.profile,
    env,
    flags: options.overrides,
  });
  const initial = await loadInitialConfig(source);
  guardMode(initial.config, initial.snapshot.exists, options.allowUnconfigured, paths.configPath);

  const logging = createRunnerLogging(initial.config, {
    paths,
    home,
    verbose: options.verbose,
    isTerminal: options.isTerminal,
    noColor: Boolean(env.NO_COLOR),
    writeLine: (line) => output.out(line),
  });
  const log = logging.logger;
  const openFiles = await readOpenFileLimit();
  if (openFiles) logOpenFileLimit(log, openFiles);
  const port = initial.config.gateway?.port ?? 18789;
  await tightenStateDir(paths.stateDir);
  const lock = await acquireGatewayLock({
    stateDir: paths.stateDir,
    owner: { pid: Deno.pid, port, startedAt: new Date().toISOString(), configPath: paths.configPath },
  });
  const stores = new ClusterStores(paths.stateDir, env, log);
  try {
    if (options.force && port !== 0) {
      const killed = await freePort(port);
      if (killed.length) log.warn("--force stopped the previous listener", { port, pids: killed });
    }
    const supervisor = createSupervisor({ context, options, source, logging, lock, home, devToken, stores });
    try {
      await supervisor.start();
    } catch (err) {
      throw startFailure(err);
    }
    await serveUntilStopped(
      context,
      options,
      supervisor,
      { source, path: file.path, config: initial.config },
      log,
    );
    return EXIT.ok;
  } finally {
    await stores.close();
    await lock.release();
    logging.close();
  }
}

/**
 * Creates the dev config when it is missing (or on `--reset`). Returns the token when one was just
 * generated: it is printed once, with the ways to use it once the port is known.
 */
async function prepareDevConfig({ paths, output }: CliContext, reset: boolean): Promise<string | undefined> {
  // Only `--dev` writes a config: a service's or an operator's start does not load how.
  const { ensureDevConfig } = await import("./dev-profile.ts");
  const setup = await ensureDevConfig(paths, { reset });
  if (!setup.token) return undefined;
  output.out(`Created dev config ${paths.configPath}`);
  output.out(`Gateway token (shown once; it is stored in the config): ${setup.token}`);
  if (setup.detected) {
    output.out(
      `Found a local model server (${setup.detected.providerId} at ${setup.detected.config.baseUrl}); ` +
        `default model ${setup.detected.defaultModel} (the built-in one stays as local/scripted-1)`,
    );
  }
  return setup.token;
}

/** Loads the config to start with; a file that cannot be read or parsed is a config error (exit 78). */
async function loadInitialConfig(source: ConfigSource): Promise<LoadedConfig> {
  try {
    return await loadConfig(source);
  } catch (err) {
    if (err instanceof ConfigLoadError) throw new CliError(err.message, EXIT.config);
    throw err;
  }
}

/** What the supervisor's callbacks use from `runGateway`. */
interface SupervisorParts {
  context: CliContext;
  options: GatewayRunOptions;
  source: ConfigSource;
  logging: RunnerLogging;
  lock: GatewayLock;
  home: string;
  /** A freshly generated dev token, printed with its usage hints once the gateway listens. */
  devToken: string | undefined;
  /** The stores each gateway gets (Redis when the cluster is configured). */
  stores: ClusterStores;
}

/** The supervisor that (re)creates the gateway for each applied config, with secrets resolved by the host. */
function createSupervisor(
  { context, options, source, logging, lock, home, devToken, stores }: SupervisorParts,
): GatewaySupervisor {
  const { env, paths, output } = context;
  const log = logging.logger;
  let newDevToken = devToken;
  const bindRetries = Number(env.OPENCLAW_GATEWAY_BIND_RETRIES ?? 20);
  // SecretRef results of the latest resolution: the gateway redacts them wherever they would leave.
  let refValues: string[] = [];
  const supervisor: GatewaySupervisor = new GatewaySupervisor({
    source,
    logger: log.child("reload"),
    resolveSecrets: async (config, previous) => {
      const resolved = await resolveSecrets(config, {
        resolvers: hostSecretResolvers(env, home),
        previous: previous?.values,
      });
      refValues = [...resolved.values.values()].map((v) => v.value);
      return resolved;
    },
    createGateway: async (config) => {
      const shared = await stores.storesFor(config);
      return await retryingStart(
        createGateway({
          config,
          env,
          transport: denoTransport({ engine: config.gateway?.transport?.engine }),
          modules: [...options.modules(paths), secretsModule(() => supervisor.reloadSecrets())],
          stores: shared,
          logSinks: [logging.sink],
          logLevel: "trace",
          logTail: new FileLogTail(() => logging.file.path),
          paths: { configPath: paths.configPath, stateDir: paths.stateDir },
          secretValues: () => refValues,
          host: { name: Deno.hostname(), platform: Deno.build.os },
        }),
        bindRetries,
        log,
      );
    },
    onApplied: (prepared) => logging.apply(prepared.runtime, runtimeSecretValues(prepared, env)),
    onListening: async (address) => {
      if (address) await lock.updatePort(address.port);
      if (address && newDevToken) {
        printDevTokenHints(output, address, newDevToken);
        newDevToken = undefined;
      }
    },
  });
  return supervisor;
}

/** Every secret value of an applied config the runner's own log must hide (resolved refs, auth, env). */
function runtimeSecretValues(prepared: PreparedConfig, env: CliContext["env"]): string[] {
  const secretValues = [
    ...[...prepared.secrets.values.values()].map((v) => v.value),
    ...collectSecretValues(prepared.runtime, env),
  ];
  const auth = prepared.runtime.gateway?.auth;
  for (
    const value of [
      auth?.token,
      auth?.password,
      env.OPENCLAW_GATEWAY_TOKEN,
      env.OPENCLAW_GATEWAY_PASSWORD,
    ]
  ) {
    if (typeof value === "string" && value) secretValues.push(value);
  }
  return secretValues;
}

/** Prints where the Control UI is and a curl that works, for a dev token just generated. */
function printDevTokenHints(
  output: CliContext["output"],
  address: { hostname: string; port: number },
  token: string,
): void {
  const base = `http://${address.hostname}:${address.port}`;
  output.out(`Control UI: ${base}/#token=${token}`);
  output.out(
    `Try: curl ${base}/v1/chat/completions -H "Authorization: Bearer ${token}" ` +
      `-H 'content-type: application/json' -d '{"model":"openclaw","messages":[{"role":"user","content":"hi"}]}'`,
  );
}

/** Watches the config file (unless reload is off) and SIGUSR1 until the shutdown signal, then stops. */
async function serveUntilStopped(
  context: CliContext,
  options: GatewayRunOptions,
  supervisor: GatewaySupervisor,
  watched: { source: ConfigSource; path: string; config: GatewayConfig },
  log: Logger,
): Promise<void> {
  const stopWatching = reloadModeOf(watched.config) === "off"
    ? undefined
    : watched.source.watch?.(() => void supervisor.reload());
  log.info("watching config", { path: watched.path, mode: reloadModeOf(watched.config) });
  const stopRestarts = options.onRestartSignal?.(() =>
    void supervisor.restart("restart requested (SIGUSR1)")
  );
  const reason = await stopRequested(context.shutdownSignal);
  stopWatching?.();
  stopRestarts?.();
  await supervisor.stop(reason);
}

function guardMode(config: GatewayConfig, exists: boolean, allow: boolean, configPath: string): void {
  if (allow || config.gateway?.mode === "local") return;
  if (exists && config.gateway?.mode === undefined) {
    throw new CliError(
      `existing config is missing gateway.mode (${configPath}); set gateway.mode to "local" (openclaw config set gateway.mode local) or pass --allow-unconfigured`,
      EXIT.config,
    );
  }
  throw new CliError(
    `Gateway start blocked: set gateway.mode=local (run \`openclaw setup\`) or pass --allow-unconfigured`,
    EXIT.config,
  );
}

function startFailure(err: unknown): CliError {
  if (err instanceof ConfigLoadError || err instanceof SecretsActivationError) {
    return new CliError(err.message, EXIT.config);
  }
  if (err instanceof GatewayError) {
    const code = err.code === "AUTH_NOT_CONFIGURED" || err.code === "BIND_WITHOUT_AUTH" ||
        err.code === "CONFIG_INVALID" ||
        err.code === "PORT_IN_USE"
      ? EXIT.config
      : EXIT.failure;
    return new CliError(err.message, code);
  }
  return new CliError(err instanceof Error ? err.message : String(err));
}

/**
 * Retries a start that failed on a taken port, riding out a previous gateway's exit (a restart, TIME_WAIT).
 * A port held by something that is not a gateway will not free itself: that fails at once, naming it.
 */
function retryingStart(gateway: Gateway, retries: number, log: Logger): ManagedGateway {
  return {
    async start() {
      for (let attempt = 0;; attempt++) {
        try {
          return await gateway.start();
        } catch (err) {
          if (!(err instanceof GatewayError) || err.code !== "PORT_IN_USE") throw err;
          const config = gateway.config().gateway;
          const hostname = bindHostFor(config?.bind, config?.customBindHost);
          const port = config?.port ?? 18789;
          // Only a start that finds its port taken needs to know who holds it.
          const { portTakenMessage, probePortHolder } = await import("./port-holder.ts");
          const holder = await probePortHolder(hostname, port);
          if (!holder.gateway || attempt >= retries) {
            throw new GatewayError("PORT_IN_USE", portTakenMessage(hostname, port, holder));
          }
          if (attempt === 0) log.warn("port busy; retrying", { retries, delayMs: BIND_RETRY_DELAY_MS });
          await new Promise((r) => setTimeout(r, BIND_RETRY_DELAY_MS));
        }
      }
    },
    stop: (options) => gateway.stop(options),
    updateConfig: (next, source) => gateway.updateConfig(next, source),
  };
}

function stopRequested(signal: AbortSignal): Promise<string> {
  const reason = () => (typeof signal.reason === "string" ? signal.reason : "gateway stopping");
  if (signal.aborted) return Promise.resolve(reason());
  return new Promise((resolve) => signal.addEventListener("abort", () => resolve(reason()), { once: true }));
}
