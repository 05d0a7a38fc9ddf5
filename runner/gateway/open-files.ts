/**
 * The open-file limit a gateway runs with. Every socket holds a descriptor, so a low limit is what a
 * connection flood exhausts first. Deno (like Node) already raises its soft limit to the hard one at
 * startup, so the runner only reports it (Linux, from /proc) and `doctor` warns when it is low.
 *
 * @module
 */
import type { Logger } from "../../lib/log/logger.ts";

/** Soft and hard `RLIMIT_NOFILE`; `Infinity` for "unlimited". */
export interface OpenFileLimit {
  soft: number;
  hard: number;
}

/** Below this, `doctor` and the runner warn. */
export const MIN_OPEN_FILES = 4096;

/** What to do about a low limit, for the runner's warning and `doctor`. */
export const RAISE_OPEN_FILES_HINT = "the service from `openclaw gateway install` sets 65536 " +
  "(systemd LimitNOFILE, launchd NumberOfFiles); for a gateway started from a shell, raise the hard " +
  "limit (nofile in /etc/security/limits.conf, or `ulimit -Hn 65536` as root) and start it again";

/** Parses the `Max open files` row of a `/proc/<pid>/limits` text. */
export function parseOpenFileLimit(text: string): OpenFileLimit | undefined {
  const row = /^Max open files\s+(\S+)\s+(\S+)/m.exec(text);
  if (!row) return undefined;
  const value = (word: string) => word === "unlimited" ? Infinity : Number(word);
  const [soft, hard] = [value(row[1]), value(row[2])];
  return Number.isNaN(soft) || Number.isNaN(hard) ? undefined : { soft, hard };
}

/** The limit of process `pid` (default: this one); undefined off Linux or when it cannot be read. */
export async function readOpenFileLimit(pid?: number): Promise<OpenFileLimit | undefined> {
  if (Deno.build.os !== "linux") return undefined;
  const text = await Deno.readTextFile(`/proc/${pid ?? "self"}/limits`).catch(() => undefined);
  return text === undefined ? undefined : parseOpenFileLimit(text);
}

/** Logs the limit at start: info when ample, a warning with what to do when low. */
export function logOpenFileLimit(log: Logger, limit: OpenFileLimit): void {
  const fields = { soft: limit.soft, hard: limit.hard };
  if (limit.soft >= MIN_OPEN_FILES) log.info("open-file limit", fields);
  else log.warn(`open-file limit below ${MIN_OPEN_FILES}; ${RAISE_OPEN_FILES_HINT}`, fields);
}
