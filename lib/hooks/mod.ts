/**
 * Hooks: inbound webhooks (`/hooks/wake`, `/hooks/agent`, mapped `/hooks/<name>`) that wake or run
 * agents, with a hook token separate from the gateway's.
 *
 * @example Wake the default agent with a system event
 * ```ts
 * import { agentsModule, createGateway, hooksModule, memoryTransport } from "@openclaw-ts/gateway";
 *
 * const transport = memoryTransport();
 * const agents = agentsModule();
 * const gateway = createGateway({
 *   transport,
 *   config: {
 *     gateway: { auth: { token: "gateway-s3cret" } },
 *     hooks: { enabled: true, token: "hook-s3cret" },
 *   },
 *   modules: [agents, hooksModule({ agents })],
 * });
 * await gateway.start();
 *
 * const response = await transport.fetch("/hooks/wake", {
 *   method: "POST",
 *   headers: { authorization: "Bearer hook-s3cret", "content-type": "application/json" },
 *   body: JSON.stringify({ text: "The nightly backup finished." }),
 * });
 * const body = await response.json();
 * if (!body.ok || typeof body.runId !== "string") throw new Error(JSON.stringify(body));
 * await gateway.stop();
 * ```
 *
 * @module
 */
export { DEFAULT_HOOKS_PATH, hooksModule, type HooksModuleOptions } from "./hooks-module.ts";
export { HOOK_RATE_LIMIT } from "./auth.ts";
export { DEFAULT_HOOK_MAX_BODY_BYTES } from "./route.ts";
export { renderTemplate } from "./template.ts";
export type { HookMappingConfig, HooksSection } from "../config/sections/hooks.ts";
