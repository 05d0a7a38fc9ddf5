/**
 * The path helpers the runner uses (POSIX rules, as `node:path` applies them on Linux and macOS). They
 * stand in for `@std/path`, which cannot be installed here; loading `node:path` instead would boot Deno's
 * Node compatibility layer, a few MiB of resident memory an idle gateway keeps for nothing.
 *
 * @module
 */

/** The separator between entries of `PATH`-like variables. */
export const delimiter: string = Deno.build.os === "windows" ? ";" : ":";

/** Whether `path` starts at the root. */
export function isAbsolute(path: string): boolean {
  return path.startsWith("/");
}

/** `path` with `.`/`..` segments and repeated slashes folded away; a trailing slash stays. */
export function normalize(path: string): string {
  const folded = fold(path);
  if (!path.endsWith("/") || folded === "/") return folded;
  return folded === "." ? "./" : `${folded}/`;
}

/** `path` with `.`/`..` segments and all needless slashes folded away (`.` when nothing is left). */
function fold(path: string): string {
  const absolute = isAbsolute(path);
  const out: string[] = [];
  for (const segment of path.split("/")) {
    if (segment === "" || segment === ".") continue;
    if (segment !== "..") out.push(segment);
    else if (out.length > 0 && out.at(-1) !== "..") out.pop();
    else if (!absolute) out.push("..");
  }
  const joined = out.join("/");
  return absolute ? `/${joined}` : joined || ".";
}

/** The non-empty `parts` joined by `/`, normalized. */
export function join(...parts: string[]): string {
  const joined = parts.filter((part) => part !== "").join("/");
  return joined === "" ? "." : normalize(joined);
}

/** `parts` resolved right to left until one is absolute, from the working directory; normalized. */
export function resolve(...parts: string[]): string {
  let path = "";
  for (let i = parts.length - 1; i >= 0 && !isAbsolute(path); i--) {
    if (parts[i] !== "") path = path ? `${parts[i]}/${path}` : parts[i];
  }
  return fold(isAbsolute(path) ? path : `${Deno.cwd()}/${path}`);
}

/** The folder holding `path` (`.` for a bare name, `/` for the root), as `node:path` computes it. */
export function dirname(path: string): string {
  // The last slash that has a non-slash after it ends the folder; slashes at the very end do not count.
  let end = -1;
  let seenName = false;
  for (let i = path.length - 1; i >= 1; i--) {
    if (path[i] !== "/") seenName = true;
    else if (seenName) {
      end = i;
      break;
    }
  }
  if (end === -1) return isAbsolute(path) ? "/" : ".";
  return isAbsolute(path) && end === 1 ? "//" : path.slice(0, end);
}

/** The last segment of `path`, trailing slashes ignored. */
export function basename(path: string): string {
  const trimmed = path.replace(/(?<=.)\/+$/, "");
  return trimmed === "/" ? "" : trimmed.slice(trimmed.lastIndexOf("/") + 1);
}

/** The path from `from` to `to`, both resolved first (`""` when they are the same). */
export function relative(from: string, to: string): string {
  const a = resolve(from).split("/").filter(Boolean);
  const b = resolve(to).split("/").filter(Boolean);
  let common = 0;
  while (common < a.length && common < b.length && a[common] === b[common]) common++;
  return [...a.slice(common).map(() => ".."), ...b.slice(common)].join("/");
}
