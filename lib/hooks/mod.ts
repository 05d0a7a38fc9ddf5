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
export {
  DEFAULT_HOOK_MAX_BODY_BYTES,
  DEFAULT_HOOKS_PATH,
  HOOK_RATE_LIMIT,
  hooksModule,
  type HooksModuleOptions,
} from "./hooks-module.ts";
export { renderTemplate } from "./template.ts";
export type { HookMappingConfig, HooksSection } from "../config/sections/hooks.ts";
