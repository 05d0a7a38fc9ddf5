/**
 * The Control UI module: serves the single-page UI under `gateway.controlUi.basePath` (default `/`) with
 * a strict Content-Security-Policy and cache headers, `control-ui-config.json` behind gateway HTTP auth,
 * and guards browser sockets by origin. The page itself talks to the gateway over its own WebSocket.
 *
 * @module
 */
import { jsonResponse, textResponse } from "../http/response.ts";
import { absentFeatureMethods, type HostInfo } from "../methods/absent-features.ts";
import type { GatewayContext, GatewayModule } from "../types.ts";
import { GATEWAY_VERSION } from "../version.ts";
import { once } from "../once.ts";
import type { UiAsset } from "./asset.ts";
import { originRefusal } from "./origin.ts";
import type { UiRootFiles } from "./root-ui.ts";

/** The page may load only its own files and talk only to its own origin. */
export const CONTROL_UI_CSP: string = [
  "default-src 'none'",
  "script-src 'self'",
  "style-src 'self'",
  "img-src 'self' data: blob: https://avatars.githubusercontent.com https://www.gravatar.com",
  "connect-src 'self'",
  "base-uri 'none'",
  "form-action 'none'",
  "frame-ancestors 'none'",
].join("; ");

const IMMUTABLE = "public, max-age=31536000, immutable";

/**
 * What {@link controlUiModule} may read outside the core. The runner passes both; an embedder without
 * them still gets the built-in page and every other method.
 */
export interface ControlUiOptions {
  /** Reads `gateway.controlUi.root`; without it a configured root answers 503 saying so. */
  rootFiles?: UiRootFiles;
  /** The host facts `system.info` reports; without it there is no `system.info`. */
  hostInfo?: () => HostInfo;
}

/** Normalises a base path to `/` or `/prefix` (no trailing slash). */
export function normaliseBasePath(raw: string | undefined): string {
  const trimmed = (raw ?? "/").trim().replace(/\/+$/, "");
  return trimmed ? (trimmed.startsWith("/") ? trimmed : `/${trimmed}`) : "/";
}

/**
 * Creates the Control UI module: the page and its assets under `gateway.controlUi.basePath` (default `/`),
 * on unless `gateway.controlUi.enabled` is false, served with a strict Content Security Policy.
 *
 * @example
 * ```ts
 * import { CONTROL_UI_CSP, controlUiModule, createGateway } from "@openclaw-ts/gateway";
 *
 * const gateway = createGateway({
 *   config: { gateway: { auth: { token: "s3cret" } } },
 *   modules: [controlUiModule()],
 * });
 * await gateway.start();
 *
 * const page = await gateway.fetch(new Request("http://127.0.0.1/"));
 * await page.body?.cancel();
 * if (page.headers.get("content-security-policy") !== CONTROL_UI_CSP) throw new Error("no CSP");
 * await gateway.stop();
 * ```
 */
export function controlUiModule(options: ControlUiOptions = {}): GatewayModule {
  return {
    name: "control-ui",
    async setup(ctx: GatewayContext) {
      const ui = () => ctx.config().gateway?.controlUi ?? {};
      const base = normaliseBasePath(ui().basePath);
      const prefix = base === "/" ? "/" : `${base}/`;
      const enabled = () => ui().enabled !== false;

      ctx.guardSockets((info) => originRefusal(info, ui().allowedOrigins ?? []));
      // OpenClaw's own Control UI opens pages for features this gateway lacks; they answer empty.
      for (const method of absentFeatureMethods(options.hostInfo)) {
        ctx.registerMethod(method);
      }
      const root = ui().root;
      // The page and its assets are public: what they show comes over the (authenticated) socket.
      // A UI build on disk is rare; its file serving is imported only for a config that names one.
      if (root) {
        (await import("./root-ui.ts")).registerRootUi(ctx, options.rootFiles, {
          root,
          base,
          prefix,
          enabled,
        });
      } else registerBuiltInUi(ctx, prefix, enabled);
      if (base !== "/") {
        ctx.registerRoute({
          path: base,
          methods: ["GET", "HEAD"],
          auth: "none",
          handler: () => new Response(null, { status: 308, headers: { Location: prefix } }),
        });
      }
      ctx.registerRoute({
        path: `${prefix}control-ui-config.json`,
        methods: ["GET", "HEAD"],
        enabled,
        // The reference Control UI asks for it with its device token once paired.
        auth: "control-ui-read",
        handler: () => jsonResponse(uiConfig(ctx, base), 200, { "Cache-Control": "no-store" }),
      });
    },
  };
}

/**
 * The built-in page and its content-hashed assets. Their text (the largest constant of the gateway) is
 * imported on the first request for the page, so a gateway nobody opens the UI of never holds it.
 */
function registerBuiltInUi(ctx: GatewayContext, prefix: string, enabled: () => boolean): void {
  const files = once(async () => layout(prefix, (await import("./assets.ts")).UI_FILES));
  ctx.registerRoute({
    path: prefix,
    methods: ["GET", "HEAD"],
    enabled,
    auth: "none",
    handler: async (request) => {
      const { page, index } = await files();
      return serveAsset(page, index, "no-cache", request);
    },
  });
  ctx.registerRoute({
    path: `${prefix}assets/`,
    prefix: true,
    methods: ["GET", "HEAD"],
    enabled,
    auth: "none",
    async handler(request) {
      const asset = (await files()).byPath.get(new URL(request.url).pathname);
      if (!asset) return textResponse("Not Found", 404);
      return serveAsset(asset, asset.body, IMMUTABLE, request);
    },
  });
}

/**
 * Where the UI's files are served under `prefix`: assets carry their content hash in the name (so they
 * can be cached for good), and the page names them.
 */
function layout(
  prefix: string,
  files: Readonly<Record<string, UiAsset>>,
): { page: UiAsset; index: string; byPath: Map<string, UiAsset> } {
  const assetPath = (name: string) => {
    const asset = files[name];
    const dot = name.lastIndexOf(".");
    return `${prefix}assets/${name.slice(0, dot)}.${asset.hash}${name.slice(dot)}`;
  };
  const page = files["index.html"];
  const index = page.body
    .replace("%APP_JS%", assetPath("app.js"))
    .replace("%STYLE_CSS%", assetPath("style.css"));
  const byPath = new Map(
    Object.keys(files).filter((n) => n !== "index.html").map((n) => [assetPath(n), files[n]]),
  );
  return { page, index, byPath };
}

/** `body` as `asset`, with the page's CSP and caching; `304` when the client has this version. */
function serveAsset(asset: UiAsset, body: string, cache: string, request: Request): Response {
  const etag = `"${asset.hash}"`;
  const headers: Record<string, string> = {
    "Content-Type": asset.type,
    "Cache-Control": cache,
    ETag: etag,
    "Content-Security-Policy": CONTROL_UI_CSP,
    "X-Frame-Options": "DENY",
  };
  if (request.headers.get("if-none-match") === etag) {
    return new Response(null, { status: 304, headers });
  }
  return new Response(request.method === "HEAD" ? null : body, { headers });
}

/**
 * `control-ui-config.json`: what the page needs to know about this gateway, with the fields the
 * reference Control UI reads. Features this gateway lacks (terminal, CLI agents, plugin frames) are
 * reported off, so that UI hides them instead of calling methods that are not here.
 */
function uiConfig(ctx: GatewayContext, base: string): Record<string, unknown> {
  const config = ctx.config();
  const controlUi = config.gateway?.controlUi ?? {};
  return {
    basePath: base,
    serverVersion: GATEWAY_VERSION,
    assistantName: config.ui?.assistant?.name ?? "OpenClaw",
    ...(config.ui?.seamColor ? { seamColor: config.ui.seamColor } : {}),
    embedSandbox: "scripts",
    allowExternalEmbedUrls: false,
    automaticallyFetchFavicons: controlUi.automaticallyFetchFavicons !== false,
    communityInvite: controlUi.communityInvite !== false,
    terminalEnabled: false,
    cliAgentsEnabled: false,
    pluginFrameGrants: [],
  };
}
