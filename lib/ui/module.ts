/**
 * The Control UI module: serves the single-page UI under `gateway.controlUi.basePath` (default `/`) with
 * a strict Content-Security-Policy and cache headers, `control-ui-config.json` behind gateway HTTP auth,
 * and guards browser sockets by origin. The page itself talks to the gateway over its own WebSocket.
 *
 * @module
 */
import { jsonResponse, textResponse } from "../http/security-headers.ts";
import type { GatewayContext, GatewayModule } from "../types.ts";
import { GATEWAY_VERSION } from "../version.ts";
import type { UiAsset } from "./asset.ts";
import { UI_FILES } from "./assets.ts";
import { originRefusal } from "./origin.ts";

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

/** Normalises a base path to `/` or `/prefix` (no trailing slash). */
export function normaliseBasePath(raw: string | undefined): string {
  const trimmed = (raw ?? "/").trim().replace(/\/+$/, "");
  return trimmed ? (trimmed.startsWith("/") ? trimmed : `/${trimmed}`) : "/";
}

/** Creates the Control UI module. */
export function controlUiModule(): GatewayModule {
  return {
    name: "control-ui",
    setup(ctx: GatewayContext) {
      const ui = () => ctx.config().gateway?.controlUi ?? {};
      const base = normaliseBasePath(ui().basePath);
      const prefix = base === "/" ? "/" : `${base}/`;
      const assetPath = (name: string) => {
        const asset = UI_FILES[name];
        const dot = name.lastIndexOf(".");
        return `${prefix}assets/${name.slice(0, dot)}.${asset.hash}${name.slice(dot)}`;
      };
      const index = UI_FILES["index.html"].body
        .replace("%APP_JS%", assetPath("app.js"))
        .replace("%STYLE_CSS%", assetPath("style.css"));
      const byPath = new Map(
        Object.keys(UI_FILES).filter((n) => n !== "index.html").map((n) => [assetPath(n), UI_FILES[n]]),
      );
      const enabled = () => ui().enabled !== false;

      ctx.guardSockets((info) => originRefusal(info, ui().allowedOrigins ?? []));

      const serve = (asset: UiAsset, body: string, cache: string, request: Request) => {
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
      };
      const page = (request: Request) =>
        enabled()
          ? serve(UI_FILES["index.html"], index, "no-cache", request)
          : textResponse("Not Found", 404);

      ctx.registerRoute({ path: prefix, methods: ["GET", "HEAD"], handler: page });
      if (base !== "/") {
        ctx.registerRoute({
          path: base,
          methods: ["GET", "HEAD"],
          handler: () => new Response(null, { status: 308, headers: { Location: prefix } }),
        });
      }
      ctx.registerRoute({
        path: `${prefix}assets/`,
        prefix: true,
        methods: ["GET", "HEAD"],
        handler(request) {
          const asset = byPath.get(new URL(request.url).pathname);
          if (!asset || !enabled()) return textResponse("Not Found", 404);
          return serve(asset, asset.body, IMMUTABLE, request);
        },
      });
      ctx.registerRoute({
        path: `${prefix}control-ui-config.json`,
        methods: ["GET", "HEAD"],
        async handler(request, info) {
          if (!enabled()) return textResponse("Not Found", 404);
          const auth = await ctx.authenticateHttp(request, info);
          if (!auth.ok) return auth.response;
          const config = ctx.config();
          return jsonResponse(
            {
              basePath: base,
              serverVersion: GATEWAY_VERSION,
              assistantName: config.ui?.assistant?.name ?? "OpenClaw",
              ...(config.ui?.seamColor ? { seamColor: config.ui.seamColor } : {}),
            },
            200,
            { "Cache-Control": "no-store" },
          );
        },
      });
    },
  };
}
