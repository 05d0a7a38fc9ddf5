/**
 * Serves another Control UI build from disk (`gateway.controlUi.root`, such as OpenClaw's own
 * `dist/control-ui/`) under the base path, the way the reference gateway does: files as they are,
 * `index.html` for client routes, the page told its base path by an attribute on `<html>`, and a
 * Content-Security-Policy that admits the page's own inline scripts by hash.
 *
 * @module
 */
import { textResponse } from "../http/response.ts";
import type { GatewayContext } from "../types.ts";

/** One file read from a Control UI root. */
export interface RootFile {
  /** The file's bytes. */
  body: Uint8Array<ArrayBuffer>;
  /** The path under the root, `/`-separated, as resolved (such as `assets/index-abc.js`). */
  path: string;
  /** When the file last changed, in epoch milliseconds. */
  mtimeMs: number;
}

/** Why a root path was refused: it names something outside the root, or nothing. */
export type RootFileMiss = "outside" | "missing";

/**
 * Read access to a Control UI build (`gateway.controlUi.root`). The core reaches no file system itself;
 * the runner passes one that reads the local disk.
 */
export interface UiRootFiles {
  /** The root's real (symlink-free) path, or undefined when it does not exist. */
  realRoot(root: string): Promise<string | undefined>;
  /**
   * The file at `relative` (URL-decoded, `/`-separated) under `rootReal`: `outside` for any path that
   * leaves the root (symlinks included), `missing` when there is no such file.
   */
  read(rootReal: string, relative: string): Promise<RootFile | RootFileMiss>;
}

const CONTENT_TYPES: Readonly<Record<string, string>> = {
  html: "text/html; charset=utf-8",
  js: "text/javascript; charset=utf-8",
  mjs: "text/javascript; charset=utf-8",
  css: "text/css; charset=utf-8",
  json: "application/json; charset=utf-8",
  map: "application/json; charset=utf-8",
  webmanifest: "application/manifest+json; charset=utf-8",
  txt: "text/plain; charset=utf-8",
  svg: "image/svg+xml",
  png: "image/png",
  jpg: "image/jpeg",
  jpeg: "image/jpeg",
  gif: "image/gif",
  webp: "image/webp",
  avif: "image/avif",
  ico: "image/x-icon",
  woff: "font/woff",
  woff2: "font/woff2",
  ttf: "font/ttf",
  wasm: "application/wasm",
  mp3: "audio/mpeg",
  wav: "audio/wav",
  mp4: "video/mp4",
};

const IMMUTABLE = "public, max-age=31536000, immutable";

/**
 * `relative` (URL-decoded) as a `/`-separated path inside the root, or `undefined` when it leaves the root
 * (a `..` past it, an absolute path, a NUL byte).
 */
function pathInsideRoot(relative: string): string | undefined {
  if (relative.includes("\0")) return undefined;
  const path = relative.replaceAll("\\", "/");
  if (path.startsWith("/")) return undefined;
  const parts: string[] = [];
  for (const part of path.split("/")) {
    if (part === "" || part === ".") continue;
    if (part !== "..") parts.push(part);
    else if (parts.pop() === undefined) return undefined;
  }
  return parts.join("/");
}

/** The few file-system calls a {@link UiRootFiles} needs; each runtime's adapter supplies its own. */
export interface UiRootFileSystem {
  /** The symlink-free path; rejects when nothing is there. */
  realPath(path: string): Promise<string>;
  /** Whether the path is a plain file, and when it last changed (epoch ms). */
  stat(path: string): Promise<{ isFile: boolean; mtimeMs: number }>;
  /** The file's bytes. */
  readFile(path: string): Promise<Uint8Array<ArrayBuffer>>;
  /** The paths resolved right to left until one is absolute, from the working directory. */
  resolve(...paths: string[]): string;
  /** The OS path separator. */
  sep: string;
}

/**
 * A {@link UiRootFiles} over `fs` that refuses every path leaving the root: `..` segments, absolute
 * paths, NUL bytes, and symlinks whose target lies outside. Each runtime's adapter is this plus its own
 * file system, so the rule lives in one place.
 */
export function uiRootFilesOn(fs: UiRootFileSystem): UiRootFiles {
  const insideRoot = (rootReal: string, real: string) =>
    real.startsWith(rootReal.endsWith(fs.sep) ? rootReal : rootReal + fs.sep);
  return {
    async realRoot(root) {
      try {
        return await fs.realPath(fs.resolve(root));
      } catch {
        return undefined;
      }
    },
    async read(rootReal, relative) {
      const normal = pathInsideRoot(relative);
      if (normal === undefined) return "outside";
      let real: string;
      try {
        real = await fs.realPath(fs.resolve(rootReal, normal));
      } catch {
        return "missing";
      }
      if (!insideRoot(rootReal, real)) return "outside";
      try {
        const info = await fs.stat(real);
        if (!info.isFile) return "missing";
        return { body: await fs.readFile(real), path: normal, mtimeMs: info.mtimeMs };
      } catch {
        return "missing";
      }
    },
  };
}

/** The `Content-Type` for a file name, by extension; unknown kinds are opaque bytes. */
export function contentTypeOf(path: string): string {
  const dot = path.lastIndexOf(".");
  return CONTENT_TYPES[dot < 0 ? "" : path.slice(dot + 1).toLowerCase()] ?? "application/octet-stream";
}

/** The policy for a page from another build: its own files, its inline scripts by hash, its sockets. */
export function rootUiCsp(inlineScriptHashes: readonly string[]): string {
  return [
    "default-src 'self'",
    "base-uri 'none'",
    "object-src 'none'",
    "frame-ancestors 'none'",
    "frame-src 'self'",
    `script-src ${["'self'", ...inlineScriptHashes.map((h) => `'${h}'`)].join(" ")}`,
    "style-src 'self' 'unsafe-inline'",
    "img-src 'self' data: blob: https:",
    "media-src 'self' data: blob:",
    "font-src 'self'",
    "worker-src 'self'",
    "connect-src 'self' ws: wss: data:",
  ].join("; ");
}

/**
 * Registers the routes that serve the build at `root` under `prefix` (`/` or `/base/`). Unknown paths
 * without a file extension get `index.html` (the page routes on the client); unknown files are 404.
 */
export function registerRootUi(
  ctx: GatewayContext,
  files: UiRootFiles | undefined,
  options: { root: string; base: string; prefix: string; enabled: () => boolean },
): void {
  const rootReal = files?.realRoot(options.root);
  ctx.registerRoute({
    path: options.prefix,
    prefix: true,
    methods: ["GET", "HEAD"],
    enabled: options.enabled,
    auth: "none",
    handler: async (request) => {
      if (!files) {
        return textResponse(
          `Control UI assets at ${options.root} cannot be read: this gateway was set up without ` +
            "file access for gateway.controlUi.root (controlUiModule({ rootFiles })).",
          503,
        );
      }
      const real = await rootReal;
      if (!real) {
        ctx.logger.warn("control ui root not found", { root: options.root });
        return textResponse(`Control UI assets not found at ${options.root}.`, 503);
      }
      return serveRootPath(files, real, options.base, request);
    },
  });
}

async function serveRootPath(
  files: UiRootFiles,
  rootReal: string,
  base: string,
  request: Request,
): Promise<Response> {
  const pathname = new URL(request.url).pathname;
  const under = base === "/" ? pathname : pathname.slice(base.length);
  let relative: string;
  try {
    relative = decodeURIComponent(under.replace(/^\/+/, ""));
  } catch {
    return textResponse("Not Found", 404);
  }
  const wantsIndex = relative === "" || relative.endsWith("/") || relative === "index.html";
  const found = wantsIndex ? "missing" : await files.read(rootReal, relative);
  if (found === "outside") return textResponse("Not Found", 404);
  if (found !== "missing") return fileResponse(found, request);
  const last = relative.slice(relative.lastIndexOf("/") + 1);
  if (!wantsIndex && (last.includes(".") || relative.startsWith("assets/"))) {
    return textResponse("Not Found", 404);
  }
  const index = await files.read(rootReal, "index.html");
  if (typeof index === "string") return textResponse("Not Found", 404);
  return indexResponse(index, base, request);
}

function fileResponse(file: RootFile, request: Request): Response {
  const headers = {
    "Content-Type": contentTypeOf(file.path),
    "Cache-Control": file.path.startsWith("assets/") ? IMMUTABLE : "no-cache",
    "Last-Modified": new Date(file.mtimeMs).toUTCString(),
    "Content-Security-Policy": rootUiCsp([]),
    "X-Content-Type-Options": "nosniff",
    "X-Frame-Options": "DENY",
  };
  return new Response(request.method === "HEAD" ? null : file.body, { headers });
}

/**
 * `index.html` with its relative asset links made absolute (client routes are nested paths) and the
 * base path on `<html>` where the page reads it: empty for `/`, as the reference writes it.
 */
async function indexResponse(file: RootFile, base: string, request: Request): Promise<Response> {
  const mount = base === "/" ? "" : base;
  const html = new TextDecoder().decode(file.body)
    .replaceAll('src="./', `src="${mount}/`)
    .replaceAll('href="./', `href="${mount}/`)
    .replace(/<html\b/i, `<html data-openclaw-control-ui-base-path="${escapeAttribute(mount)}"`);
  const headers = {
    "Content-Type": "text/html; charset=utf-8",
    "Cache-Control": "no-cache",
    "Content-Security-Policy": rootUiCsp(await inlineScriptHashes(html)),
    "X-Content-Type-Options": "nosniff",
    "X-Frame-Options": "DENY",
    "Referrer-Policy": "no-referrer",
  };
  return new Response(request.method === "HEAD" ? null : html, { headers });
}

/** `sha256-…` of every inline `<script>` body, so the policy admits exactly those. */
async function inlineScriptHashes(html: string): Promise<string[]> {
  const bodies = [...html.matchAll(/<script\b([^>]*)>([\s\S]*?)<\/script>/gi)]
    .filter(([, attributes, body]) => !/\bsrc\s*=/i.test(attributes) && body.length > 0)
    .map(([, , body]) => body);
  return await Promise.all(bodies.map(async (body) => {
    const digest = await crypto.subtle.digest("SHA-256", new TextEncoder().encode(body));
    return `sha256-${btoa(String.fromCharCode(...new Uint8Array(digest)))}`;
  }));
}

function escapeAttribute(value: string): string {
  return value.replaceAll("&", "&amp;").replaceAll('"', "&quot;").replaceAll("<", "&lt;");
}
