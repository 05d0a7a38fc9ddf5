/**
 * Hooks: inbound webhooks (`/hooks/wake`, `/hooks/agent`, mapped `/hooks/<name>`) that wake or run
 * agents, with a hook token separate from the gateway's.
 *
 * ```ts
 * createGateway({ config, modules: [agents, channels, hooksModule({ agents, channels })] });
 * ```
 *
 * @module
 */
export { DEFAULT_HOOKS_PATH, hooksModule, type HooksModuleOptions } from "./hooks-module.ts";
export { HOOK_RATE_LIMIT } from "./auth.ts";
export { DEFAULT_HOOK_MAX_BODY_BYTES } from "./route.ts";
export { renderTemplate } from "./template.ts";
export type { HookMappingConfig, HooksSection } from "../config/sections/hooks.ts";
