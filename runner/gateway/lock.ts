/**
 * One gateway per state directory: a lock file recording the owner's pid, port and start time, created
 * exclusively. A lock whose owner process is gone is taken over; a live one is waited on briefly and
 * then reported with the owner's pid.
 *
 * @module
 */
import { join } from "../cli/paths.ts";
import { CliError, EXIT } from "../cli/errors.ts";

/** What the lock file records. */
export interface LockOwner {
  pid: number;
  port: number;
  startedAt: string;
  configPath: string;
}

/** A held lock. */
export interface GatewayLock {
  readonly path: string;
  /** Records the port once it is known (port 0 resolves after binding). */
  updatePort(port: number): Promise<void>;
  release(): Promise<void>;
}

/** Options for {@link acquireGatewayLock}. */
export interface LockOptions {
  stateDir: string;
  owner: LockOwner;
  /** How long to wait for a live owner to go away (OpenClaw: 5 s). */
  timeoutMs?: number;
  isAlive?: (pid: number) => boolean;
}

/** Where the lock lives: `<state>/tmp/openclaw-<uid>/gateway.lock`, as OpenClaw lays out its lock tree. */
export function lockPath(stateDir: string): string {
  const uid = Deno.uid();
  return join(stateDir, "tmp", uid === null ? "openclaw" : `openclaw-${uid}`, "gateway.lock");
}

/** Whether a process with `pid` exists (signal 0 probes without delivering anything). */
export function pidAlive(pid: number): boolean {
  try {
    // Signal 0 delivers nothing; it only asks whether the process exists (Deno.kill passes it through).
    Deno.kill(pid, 0 as unknown as Deno.Signal);
    return true;
  } catch (err) {
    // Another user's process exists too; only "no such process" means gone.
    return err instanceof Deno.errors.PermissionDenied || /^EPERM\b/.test((err as Error).message);
  }
}

/** The owner a lock file's text records, or undefined when it records none (half-written, foreign). */
export function parseLockOwner(text: string): LockOwner | undefined {
  try {
    const owner = JSON.parse(text);
    return typeof owner?.pid === "number" ? owner : undefined;
  } catch {
    return undefined;
  }
}

/** The owner recorded in the lock at `path`, or undefined when there is no readable lock. */
export async function readLockOwner(path: string): Promise<LockOwner | undefined> {
  try {
    return parseLockOwner(await Deno.readTextFile(path));
  } catch {
    return undefined;
  }
}

/** Takes the state-dir lock, reclaiming it from a dead owner; throws a {@link CliError} if a live gateway holds it. */
export async function acquireGatewayLock(options: LockOptions): Promise<GatewayLock> {
  const path = lockPath(options.stateDir);
  const isAlive = options.isAlive ?? pidAlive;
  const deadline = Date.now() + (options.timeoutMs ?? 5000);
  await Deno.mkdir(join(path, ".."), { recursive: true, mode: 0o700 });
  let owner = options.owner;
  // Readers must never see a half-written lock (they would take it for a crashed owner's and remove
  // it), so the content goes to a temp file first: hard-linking it in creates the lock only if none
  // exists, renaming it over replaces the lock in one step.
  const write = async (createNew: boolean) => {
    const temp = `${path}.${owner.pid}.tmp`;
    await Deno.writeTextFile(temp, JSON.stringify(owner), { mode: 0o600 });
    try {
      if (createNew) await Deno.link(temp, path);
      else await Deno.rename(temp, path);
    } finally {
      await Deno.remove(temp).catch(() => {});
    }
  };
  for (;;) {
    try {
      await write(true);
      break;
    } catch (err) {
      if (!(err instanceof Deno.errors.AlreadyExists)) throw err;
    }
    const holder = await readLockOwner(path);
    if (!holder || holder.pid === owner.pid || !isAlive(holder.pid)) {
      // A dead owner (or a half-written file from a crash) leaves the lock to us.
      await Deno.remove(path).catch(() => {});
      continue;
    }
    if (Date.now() >= deadline) {
      throw new CliError(
        `gateway already running (pid ${holder.pid}, port ${holder.port}); lock timeout after ${
          options.timeoutMs ?? 5000
        }ms. Stop it first, or use another --profile / OPENCLAW_STATE_DIR`,
        EXIT.config,
      );
    }
    await new Promise((r) => setTimeout(r, 200));
  }
  return {
    path,
    async updatePort(port) {
      owner = { ...owner, port };
      await write(false);
    },
    async release() {
      const holder = await readLockOwner(path);
      if (holder?.pid === owner.pid) await Deno.remove(path).catch(() => {});
    },
  };
}
