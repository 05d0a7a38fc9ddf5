/**
 * Stops the CLI when the launcher that started it goes away. `npx deno task dev` is a chain of launchers
 * (npm exec → deno task → this process); a SIGTERM to the top one ends it alone, and without this watch the
 * gateway below would keep serving with nobody to stop it. Only launcher processes (node, npm, npx, deno,
 * tsx, and a shell npm put between two of them) are watched: a login shell or a service manager above them
 * is not a launcher, so a gateway under systemd or started from a terminal by hand is unaffected.
 *
 * @module
 */

/** One watched ancestor: its pid and start time (a reused pid has another start time). */
interface Ancestor {
  pid: number;
  startTime: string;
}

const LAUNCHER = /^(node|npm|npx|deno|tsx)\b/i;
/** npm runs a package's command through `sh -c`: a shell counts only between two launchers. */
const GLUE = /^(sh|dash|bash)$/;
const POLL_MS = 1000;

/**
 * `/proc/<pid>/stat` as (ppid, start time), undefined when the process is gone, or "unknown" when it could
 * not be read for another reason: out of descriptors (EMFILE during a connection flood) says nothing about
 * the launcher, and must not stop the gateway.
 */
function stat(pid: number | "self"): { ppid: number; startTime: string } | "unknown" | undefined {
  try {
    const text = Deno.readTextFileSync(`/proc/${pid}/stat`);
    // The command name (field 2) may hold spaces and parentheses; fields after its last ")" are fixed.
    const fields = text.slice(text.lastIndexOf(")") + 2).split(" ");
    return { ppid: Number(fields[1]), startTime: fields[19] };
  } catch (error) {
    return error instanceof Deno.errors.NotFound ? undefined : "unknown";
  }
}

/** Whether the launcher `a` has exited (its pid gone, or reused by a process with another start time). */
function launcherGone(a: Ancestor): boolean {
  const now = stat(a.pid);
  if (now === "unknown") return false;
  return now?.startTime !== a.startTime;
}

function commandName(pid: number): string {
  try {
    return Deno.readTextFileSync(`/proc/${pid}/comm`).trim();
  } catch {
    return "";
  }
}

/** The chain of launcher processes above this one, nearest first (empty where `/proc` is missing). */
export function launcherChain(): Ancestor[] {
  const chain: (Ancestor & { glue: boolean })[] = [];
  const self = stat("self");
  let pid = typeof self === "object" ? self.ppid : 0;
  while (pid > 1) {
    const name = commandName(pid);
    const glue = GLUE.test(name);
    const info = stat(pid);
    if (typeof info !== "object" || (!glue && !LAUNCHER.test(name))) break;
    chain.push({ pid, startTime: info.startTime, glue });
    pid = info.ppid;
  }
  while (chain.at(-1)?.glue) chain.pop();
  return chain.map(({ pid, startTime }) => ({ pid, startTime }));
}

/** Calls `onGone` once when any launcher above this process has exited; returns a stop function. */
export function watchLaunchers(onGone: (reason: string) => void): () => void {
  const chain = launcherChain();
  if (!chain.length) return () => {};
  const timer = setInterval(() => {
    const gone = chain.find((a) => launcherGone(a));
    if (!gone) return;
    clearInterval(timer);
    onGone(`launcher exited (pid ${gone.pid})`);
  }, POLL_MS);
  // Short commands must not wait for the watch.
  Deno.unrefTimer(timer);
  return () => clearInterval(timer);
}
