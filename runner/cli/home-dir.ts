/**
 * The user's home directory as `node:os` homedir() finds it, without loading Deno's Node compatibility
 * layer for it (a few MiB an idle gateway would keep).
 *
 * @module
 */

/** `$HOME` (`%USERPROFILE%` on Windows), else the home in the user's passwd entry, else `""`. */
export function homeDir(): string {
  const fromEnv = Deno.env.get(Deno.build.os === "windows" ? "USERPROFILE" : "HOME");
  if (fromEnv) return fromEnv;
  const uid = Deno.uid();
  if (uid === null) return "";
  try {
    const entry = Deno.readTextFileSync("/etc/passwd").split("\n")
      .map((line) => line.split(":"))
      .find((fields) => fields[2] === String(uid));
    return entry?.[5] ?? "";
  } catch {
    return "";
  }
}
