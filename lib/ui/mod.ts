/**
 * The Control UI: a small web page served on the gateway port that operates the gateway over its
 * WebSocket (health, clients, sessions, chat, logs, config, live request charts).
 *
 * @example Serve the Control UI
 * ```ts
 * import { controlUiModule, createGateway, memoryTransport } from "@openclaw-ts/gateway";
 *
 * const transport = memoryTransport();
 * const gateway = createGateway({
 *   transport,
 *   config: { gateway: { auth: { token: "s3cret" }, controlUi: { basePath: "/ui" } } },
 *   modules: [controlUiModule()],
 * });
 * await gateway.start();
 *
 * // On a network transport, a person opens http://127.0.0.1:18789/ui/#token=s3cret
 * const page = await transport.fetch("/ui/");
 * const html = await page.text();
 * if (page.status !== 200 || !html.includes("<html")) throw new Error(`/ui/ answered ${page.status}`);
 * await gateway.stop();
 * ```
 *
 * @module
 */
export { CONTROL_UI_CSP, controlUiModule, type ControlUiOptions, normaliseBasePath } from "./ui-module.ts";
export type { RootFile, RootFileMiss, UiRootFiles } from "./root-ui.ts";
export type { HostInfo } from "../methods/absent-features.ts";
export { originRefusal } from "./origin.ts";
export type { UiAsset } from "./asset.ts";
export type { UiSection } from "../config/sections/ui.ts";
