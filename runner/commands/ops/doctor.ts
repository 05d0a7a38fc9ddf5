/**
 * `openclaw doctor [--fix]`: checks what keeps a gateway from starting or being reached (config, auth
 * for the bind, port, permissions, stale lock, service drift) and, with `--fix`, repairs what it safely
 * can: backups first, atomic writes, and never a service rewrite when an external supervisor owns it.
 *
 * @module
 */
import { authContradiction, resolveAuth } from "../../../lib/auth/shared-secret.ts";
import { GatewayClientError } from "../../../lib/client/errors.ts";
import { scanGatewayServices } from "../../../lib/service/scan.ts";
import { defineCommand } from "../../cli/define-command.ts";
import { EXIT } from "../../cli/errors.ts";
import type { CliContext, RunnerCommand } from "../../command.ts";
import { repairConfigFile } from "../../config/config-writer.ts";
import { lockPath, parseLockOwner, pidAlive } from "../../gateway/lock.ts";
import { findLoosePaths, tightenPaths } from "../../gateway/state-permissions.ts";
import { MIN_OPEN_FILES, RAISE_OPEN_FILES_HINT } from "../../gateway/open-files.ts";
import { type CliConfigReport, readCliConfig } from "./config.ts";
import { UNRECOGNIZED } from "../../../lib/config/unknown-keys.ts";
import { unknownKeysCheck } from "./doctor-config-keys.ts";
import { openConnection } from "./connect.ts";
import type { OpsHost } from "./host.ts";
import { auditService, inspectService, installerHost } from "./service.ts";
import { gatewaySpec } from "./service-commands.ts";
import { printJson } from "./shared.ts";
import { resolveGateway, resolvePort } from "./target.ts";

/** One finding. `repair` is what `--fix` would do; `fixed` says it was done. */
export interface DoctorFinding {
  id: string;
  status: "ok" | "warn" | "error";
  message: string;
  repair?: string;
  fixed?: boolean;
}

interface Check extends DoctorFinding {
  fix?: () => Promise<void>;
}

/** Settings repairs stop at a root `$include`: the setting may come from the included file. */
function editConfigFile(path: string, edit: (root: Record<string, unknown>) => void): Promise<void> {
  return repairConfigFile(path, (root) => {
    if ("$include" in root) throw new Error(`${path} uses a root $include; edit it by hand`);
    edit(root);
  });
}

/** The object at `parent[key]`, put there first when it is missing or not an object. */
function objectAt(parent: Record<string, unknown>, key: string): Record<string, unknown> {
  const child = parent[key];
  if (child && typeof child === "object") return child as Record<string, unknown>;
  return (parent[key] = {});
}

function configChecks(ctx: CliContext, config: CliConfigReport): Check[] {
  if (!config.valid) {
    return [{
      id: "config",
      status: "error",
      message: `${config.path} does not load: ${config.issues.join("; ")}`,
      repair: "none automatic: fix the named keys by hand (the gateway refuses to start until then)",
    }];
  }
  const writable = ctx.env.OPENCLAW_NIX_MODE !== "1";
  const mode = gatewayModeCheck(config, writable);
  return [
    {
      id: "config",
      status: "ok",
      message: config.exists
        ? `${config.path} parses and validates`
        : `${config.path} is missing; defaults apply`,
    },
    ...(mode ? [mode] : []),
    authCheck(ctx, config, writable),
  ];
}

/** A warning when `gateway.mode` is unset; `writable` says whether `--fix` may set it. */
function gatewayModeCheck(config: CliConfigReport, writable: boolean): Check | undefined {
  if (config.config.gateway?.mode !== undefined) return undefined;
  return {
    id: "gateway-mode",
    status: "warn",
    message:
      "gateway.mode is unset; `openclaw gateway run` will refuse to start without --allow-unconfigured",
    ...(writable
      ? {
        repair: 'set gateway.mode to "local"',
        fix: () => editConfigFile(config.path, (root) => void (objectAt(root, "gateway").mode = "local")),
      }
      : {}),
  };
}

/** Whether the configured auth lets clients connect over the configured bind. */
function authCheck(ctx: CliContext, config: CliConfigReport, writable: boolean): Check {
  const gw = config.config.gateway ?? {};
  let auth;
  try {
    auth = resolveAuth(gw.auth, ctx.env);
  } catch {
    return {
      id: "auth",
      status: "ok",
      message: "gateway auth uses a SecretRef (resolved when the gateway starts)",
    };
  }
  const bind = gw.bind ?? "loopback";
  const contradiction = authContradiction(auth);
  if (contradiction) return { id: "auth", status: "error", message: contradiction };
  if (auth.mode === "none" && bind !== "loopback") {
    return {
      id: "auth",
      status: "error",
      message:
        `gateway.bind is ${bind} but auth.mode is none: the gateway refuses to bind beyond loopback without auth`,
      repair: "none automatic: set gateway.auth.token (or bind to loopback)",
    };
  }
  if ((auth.mode === "token" && !auth.token) || (auth.mode === "password" && !auth.password)) {
    const what = auth.mode;
    return {
      id: "auth",
      status: "error",
      message:
        `auth mode is ${what} but no ${what} is configured (gateway.auth.${what} or OPENCLAW_GATEWAY_${what.toUpperCase()}); clients cannot connect`,
      ...(what === "token" && writable
        ? { repair: "generate a random gateway.auth.token", fix: () => writeRandomToken(config.path) }
        : {}),
    };
  }
  return { id: "auth", status: "ok", message: `auth mode ${auth.mode}, bind ${bind}` };
}

function writeRandomToken(path: string): Promise<void> {
  return editConfigFile(path, (root) => {
    const bytes = crypto.getRandomValues(new Uint8Array(24));
    objectAt(objectAt(root, "gateway"), "auth").token = Array.from(
      bytes,
      (b) => b.toString(16).padStart(2, "0"),
    ).join("");
  });
}

async function permissionCheck(
  host: OpsHost,
  id: string,
  path: string,
  wanted: number,
  what: string,
): Promise<Check> {
  const mode = await host.files.mode(path);
  if (mode === undefined) return { id, status: "ok", message: `${what} ${path} does not exist yet` };
  if ((mode & 0o077) === 0) {
    return { id, status: "ok", message: `${what} ${path} is private (${mode.toString(8)})` };
  }
  return {
    id,
    status: "warn",
    message: `${what} ${path} is readable by others (mode ${mode.toString(8)}); it holds credentials`,
    repair: `chmod ${wanted.toString(8)}`,
    fix: () => host.files.chmod(path, wanted),
  };
}

/** Transcripts, session indexes, logs and backups under the state dir: owner-only, like the dir itself. */
async function stateTreeCheck(stateDir: string): Promise<Check> {
  const id = "state-files-permissions";
  // The state dir itself has its own check (and fix) above.
  const loose = (await findLoosePaths(stateDir)).filter((entry) => entry.path !== stateDir);
  if (!loose.length) return { id, status: "ok", message: `everything under ${stateDir} is private` };
  const sample = loose.slice(0, 3).map((e) => `${e.path} (${e.mode.toString(8)})`).join(", ");
  return {
    id,
    status: "warn",
    message: `${loose.length} path(s) under ${stateDir} are readable by others: ${sample}${
      loose.length > 3 ? ", ..." : ""
    }`,
    repair: "chmod go-rwx (directories 0700, files 0600)",
    fix: () => tightenPaths(loose),
  };
}

async function portCheck(host: OpsHost, ctx: CliContext, config: CliConfigReport): Promise<Check> {
  const gateway = resolveGateway({}, ctx.env, config.config, ctx.dev);
  const local = gateway.targets[gateway.targets.length - 1];
  if (!await host.portInUse(gateway.port)) {
    return { id: "port", status: "ok", message: `port ${gateway.port} is free (no gateway running)` };
  }
  try {
    (await openConnection(host, local, 2000)).close();
    return { id: "port", status: "ok", message: `port ${gateway.port} is served by an OpenClaw gateway` };
  } catch (err) {
    if (err instanceof GatewayClientError && (err.kind === "auth" || err.kind === "pairing")) {
      return {
        id: "port",
        status: "warn",
        message: `port ${gateway.port} is a gateway, but it refused our credentials: ${err.message}`,
      };
    }
    return {
      id: "port",
      status: "error",
      message: `port ${gateway.port} is held by another process that does not speak the gateway protocol; ` +
        "stop it or set gateway.port to a free port",
    };
  }
}

/** The pid recorded in the gateway lock: undefined without a lock, 0 when unreadable. */
async function lockOwner(host: OpsHost, ctx: CliContext): Promise<number | undefined> {
  const text = await host.files.readText(lockPath(ctx.paths.stateDir));
  return text === undefined ? undefined : parseLockOwner(text)?.pid ?? 0;
}

async function lockCheck(host: OpsHost, ctx: CliContext): Promise<Check> {
  const path = lockPath(ctx.paths.stateDir);
  const pid = await lockOwner(host, ctx);
  if (pid === undefined) return { id: "lock", status: "ok", message: "no gateway lock held" };
  if (pid > 0 && pidAlive(pid)) {
    return { id: "lock", status: "ok", message: `lock held by running gateway pid ${pid}` };
  }
  return {
    id: "lock",
    status: "warn",
    message: `stale gateway lock ${path} (owner ${pid || "unknown"} is gone)`,
    repair: "remove the stale lock",
    fix: () => host.files.remove(path),
  };
}

/**
 * The running gateway's open-file limit when one holds the lock (a service has its own), else this
 * process's: the runtime raises its soft limit to the hard one, so that is what a gateway started from
 * this shell gets.
 */
async function openFilesCheck(host: OpsHost, ctx: CliContext): Promise<Check> {
  const owner = await lockOwner(host, ctx);
  const running = owner && pidAlive(owner) ? await host.openFileLimit(owner) : undefined;
  const limit = running ?? await host.openFileLimit();
  const whose = running ? `the running gateway's (pid ${owner})` : "this shell's";
  if (!limit) {
    return { id: "open-files", status: "ok", message: "open-file limit not checked on this platform" };
  }
  if (limit.soft >= MIN_OPEN_FILES) {
    return { id: "open-files", status: "ok", message: `${whose} open-file limit is ${limit.soft}` };
  }
  return {
    id: "open-files",
    status: "warn",
    message: `${whose} open-file limit is ${limit.soft}, below ${MIN_OPEN_FILES}: every connection holds ` +
      "a descriptor, so a flood of connections can exhaust it",
    repair: `none automatic: ${RAISE_OPEN_FILES_HINT}`,
  };
}

async function serviceChecks(host: OpsHost, ctx: CliContext, config: CliConfigReport): Promise<Check[]> {
  const service = await inspectService(host, ctx);
  const { installer, installed, state } = service;
  if (!installer) return [{ id: "service", status: "ok", message: `no service manager: ${service.reason}` }];
  if (!installed) {
    return [{
      id: "service",
      status: "ok",
      message: `${installer.name} is not installed (\`openclaw gateway install\` supervises the gateway)`,
    }];
  }
  const external = ctx.env.OPENCLAW_SERVICE_REPAIR_POLICY === "external";
  const checks: Check[] = [];
  const issues = auditService(installed, {
    port: resolvePort(undefined, ctx.env, config.config, ctx.dev).port,
    configPath: ctx.paths.configPath,
    stateDir: ctx.paths.stateDir,
  });
  for (const issue of issues) {
    checks.push({
      id: `service-${issue.code}`,
      status: "error",
      message: issue.message,
      ...(external
        ? { repair: "none: OPENCLAW_SERVICE_REPAIR_POLICY=external (your supervisor owns the service)" }
        : config.valid
        ? {
          repair: `rewrite ${installer.definitionPath} from the current config (backup kept as .bak)`,
          fix: async () => {
            const current = await host.files.readText(installer.definitionPath);
            if (current !== undefined) await host.files.writeText(`${installer.definitionPath}.bak`, current);
            await installer.install(gatewaySpec(host, ctx, config, {}, installed), { force: true });
          },
        }
        : {}),
    });
  }
  if (state && state.runtime === "stopped") {
    checks.push({
      id: "service-runtime",
      status: "warn",
      message: `${installer.name} is installed but not running: \`openclaw gateway start\``,
    });
  }
  const conflicts = (await scanGatewayServices(installerHost(host, ctx), installer.name).catch(() => []))
    .filter((found) => found.scope === "system" && found.name === installer.name);
  for (const found of conflicts) {
    checks.push({
      id: "service-conflict",
      status: "warn",
      message:
        `System-level OpenClaw gateway service detected (${found.path}) next to the user service; keep only one`,
    });
  }
  if (!checks.length) {
    checks.push({
      id: "service",
      status: "ok",
      message: `${installer.name} matches the config (${state?.runtime ?? "unknown"})`,
    });
  }
  return checks;
}

/** Builds `doctor`. */
export function doctorCommand(host: OpsHost): RunnerCommand {
  return defineCommand({
    path: ["doctor"],
    summary: "Check the gateway setup and, with --fix, repair what can be repaired safely",
    flags: {
      fix: { type: "boolean", description: "Apply the safe repairs (backups first)" },
      repair: { type: "boolean", description: "Alias for --fix" },
      "non-interactive": {
        type: "boolean",
        description: "Never prompt (doctor does not prompt; accepted for scripts)",
      },
      json: { type: "boolean", description: "Print one JSON document" },
    },
    async run({ flags }, ctx) {
      const fix = flags.fix === true || flags.repair === true;
      const config = await readCliConfig(ctx.paths.configPath, ctx.env);
      const unknownKeys = unknownKeysCheck(config, ctx.env.OPENCLAW_NIX_MODE !== "1");
      const checks: Check[] = [
        // Unknown keys have their own repair below; the config check then says so instead of "by hand".
        ...configChecks(ctx, config).map((c) =>
          unknownKeys?.fix && c.id === "config" && c.status === "error"
            ? {
              ...c,
              repair: "`--fix` removes the unknown keys (config-unknown-keys); fix anything else by hand",
            }
            : c
        ),
        ...(unknownKeys ? [unknownKeys] : []),
        await permissionCheck(host, "state-dir-permissions", ctx.paths.stateDir, 0o700, "state dir"),
        await permissionCheck(host, "config-permissions", ctx.paths.configPath, 0o600, "config file"),
        await stateTreeCheck(ctx.paths.stateDir),
        await lockCheck(host, ctx),
        await openFilesCheck(host, ctx),
        await portCheck(host, ctx, config),
        ...await serviceChecks(host, ctx, config),
      ];
      if (fix) {
        for (const check of checks) {
          if (!check.fix || check.status === "ok") continue;
          try {
            await check.fix();
            check.fixed = true;
          } catch (err) {
            check.repair = `${check.repair} failed: ${err instanceof Error ? err.message : String(err)}`;
          }
        }
        // A config whose only problems were unknown keys loads once they are gone.
        const configCheck = checks.find((c) => c.id === "config");
        if (configCheck && unknownKeys?.fixed && config.issues.every((i) => i.includes(UNRECOGNIZED))) {
          configCheck.fixed = true;
          configCheck.repair = "the unknown keys were removed; the file loads again";
        }
      }
      const open = checks.filter((c) => c.status !== "ok" && !c.fixed);
      const errors = open.filter((c) => c.status === "error");
      const findings: DoctorFinding[] = checks.map(({ fix: _fix, ...rest }) => rest);
      if (flags.json === true) {
        printJson(ctx, { ok: errors.length === 0, fixMode: fix, checks: findings });
        return errors.length ? EXIT.failure : EXIT.ok;
      }
      const lines = ["OpenClaw doctor", ""];
      for (const c of findings) {
        lines.push(`[${c.fixed ? "fixed" : c.status}] ${c.id}: ${c.message}`);
        if (c.repair && !c.fixed && c.status !== "ok") lines.push(`        repair: ${c.repair}`);
        if (c.fixed) lines.push(`        done: ${c.repair}`);
      }
      const repairable = open.filter((c) => checks.find((k) => k.id === c.id)?.fix);
      lines.push("");
      if (!open.length) lines.push("No problems found.");
      else lines.push(`${errors.length} error(s), ${open.length - errors.length} warning(s).`);
      if (!fix && repairable.length) {
        lines.push("Run `openclaw doctor --fix` to apply the repairs listed above.");
      }
      ctx.output.out(lines.join("\n"));
      return errors.length ? EXIT.failure : EXIT.ok;
    },
  });
}
