/**
 * Crash-safe file replacement: the new content goes to a temp file in the same directory, is flushed,
 * and is renamed over the target, so a reader sees either the old file or the new one, never half of
 * one. The previous content rotates into `.bak`, `.bak.1` … `.bak.4` first, so a bad write (or one that
 * dropped the user's comments) can always be undone by hand.
 *
 * @module
 */
import { basename, dirname, join } from "../cli/paths.ts";

/** How many backups are kept: `.bak` plus `.bak.1` to `.bak.4`. */
export const BACKUP_COUNT = 5;

/** Test seam: runs after the temp file is complete and before it replaces the target. */
export interface AtomicWriteHooks {
  beforeRename?(tempPath: string): void | Promise<void>;
}

/** The backup names for `path`, newest first. */
export function backupPaths(path: string): string[] {
  return Array.from({ length: BACKUP_COUNT }, (_, i) => (i === 0 ? `${path}.bak` : `${path}.bak.${i}`));
}

/**
 * A write that failed, naming the OS error and the file (`ENOSPC (no space left on device) writing
 * /home/me/.openclaw/openclaw.json`). The target is never touched before the final rename, so it
 * always still holds its previous content.
 */
export class FileWriteError extends Error {
  /** The OS error code (`ENOSPC`, `EROFS`, `EACCES`, ...), when the runtime gave one. */
  readonly code: string | undefined;

  constructor(readonly path: string, cause: unknown) {
    const code = (cause as { code?: unknown })?.code;
    // Deno says "No space left on device (os error 28)": keep the words, drop the errno.
    const reason = (cause instanceof Error ? cause.message : String(cause)).replace(
      /\s*\(os error \d+\)$/,
      "",
    );
    const what = typeof code === "string"
      ? `${code} (${reason.charAt(0).toLowerCase()}${reason.slice(1)})`
      : reason;
    super(`${what} writing ${path}; the previous file is unchanged`, { cause });
    this.name = "FileWriteError";
    this.code = typeof code === "string" ? code : undefined;
  }
}

/**
 * Replaces `path` with `text` atomically (mode 0600), rotating backups of the previous content. On any
 * failure the temp file is removed and a {@link FileWriteError} says what failed.
 */
export async function writeFileAtomic(
  path: string,
  text: string,
  hooks: AtomicWriteHooks = {},
): Promise<void> {
  const dir = dirname(path);
  const temp = join(dir, `.${basename(path)}.${Deno.pid}.${crypto.randomUUID().slice(0, 8)}.tmp`);
  let created = false;
  try {
    await Deno.mkdir(dir, { recursive: true, mode: 0o700 });
    const file = await Deno.open(temp, { write: true, createNew: true, mode: 0o600 });
    created = true;
    try {
      await writeAll(file, new TextEncoder().encode(text));
      await file.sync();
    } finally {
      file.close();
    }
    await rotateBackups(path);
    await hooks.beforeRename?.(temp);
    await Deno.rename(temp, path);
  } catch (err) {
    if (created) await Deno.remove(temp).catch(() => {});
    throw err instanceof FileWriteError ? err : new FileWriteError(path, err);
  }
}

async function writeAll(file: Deno.FsFile, bytes: Uint8Array): Promise<void> {
  for (let written = 0; written < bytes.length;) written += await file.write(bytes.subarray(written));
}

async function rotateBackups(path: string): Promise<void> {
  const names = backupPaths(path);
  try {
    await Deno.stat(path);
  } catch {
    return;
  }
  for (let i = names.length - 1; i > 0; i--) {
    await Deno.rename(names[i - 1], names[i]).catch(() => {});
  }
  await Deno.copyFile(path, names[0]);
  // copyFile keeps the source's mode; a config once left 0644 must not leave a readable backup.
  if (Deno.build.os !== "windows") await Deno.chmod(names[0], 0o600);
}
