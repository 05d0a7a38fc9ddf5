/**
 * The Control UI: a small web page served on the gateway port that operates the gateway over its
 * WebSocket (health, clients, sessions, chat, logs, config, live request charts).
 *
 * ```ts
 * createGateway({ modules: [agents, metrics, controlUiModule()] });
 * // open http://127.0.0.1:18789/#token=<gateway token>
 * ```
 *
 * @module
 */
export { CONTROL_UI_CSP, controlUiModule, normaliseBasePath } from "./ui-module.ts";
export { originRefusal } from "./origin.ts";
export type { UiAsset } from "./asset.ts";
export type { UiSection } from "../config/sections/ui.ts";
