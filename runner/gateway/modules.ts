/**
 * The feature modules a CLI-run gateway installs on top of the core's built-in methods.
 *
 * @module
 */
import { agentsModule, openAiHttpModule } from "../../lib/agents/mod.ts";
import { jsonlStores } from "../../lib/agents/jsonl-stores.ts";
import type { GatewayModule } from "../../lib/types.ts";
import type { ProfilePaths } from "../command.ts";
import { configMethodsModule } from "./config-methods.ts";

/**
 * Fresh modules for one gateway instance (an in-process restart builds new ones): agents, sessions and
 * models with sessions and transcripts kept as JSONL under the state dir, the OpenAI-compatible `/v1/*`
 * endpoints in front of them (served when `gateway.http.endpoints.*.enabled` is on), and the `config.*`
 * methods over the profile's config file.
 */
export function gatewayModules(paths: Pick<ProfilePaths, "stateDir" | "configPath">): GatewayModule[] {
  const agents = agentsModule({ stores: jsonlStores(paths.stateDir) });
  return [agents, openAiHttpModule({ agents }), configMethodsModule({ configPath: paths.configPath })];
}
