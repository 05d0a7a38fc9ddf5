/**
 * The feature modules a CLI-run gateway installs on top of the core's built-in methods.
 *
 * @module
 */
import { agentsModule, openAiHttpModule } from "../../lib/agents/mod.ts";
import { jsonlStores } from "../../lib/agents/jsonl-stores.ts";
import type { GatewayModule } from "../../lib/types.ts";

/**
 * Fresh modules for one gateway instance (an in-process restart builds new ones): agents, sessions and
 * models with sessions and transcripts kept as JSONL under the state dir, and the OpenAI-compatible
 * `/v1/*` endpoints in front of them (served when `gateway.http.endpoints.*.enabled` is on).
 */
export function gatewayModules(stateDir: string): GatewayModule[] {
  const agents = agentsModule({ stores: jsonlStores(stateDir) });
  return [agents, openAiHttpModule({ agents })];
}
