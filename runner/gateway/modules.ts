/**
 * The feature modules a CLI-run gateway installs on top of the core's built-in methods.
 *
 * @module
 */
import { agentsModule, openAiHttpModule } from "../../lib/agents/mod.ts";
import { channelsModule } from "../../lib/channels/mod.ts";
import { hooksModule } from "../../lib/hooks/mod.ts";
import { metricsModule } from "../../lib/metrics/mod.ts";
import { fileJsonDocs } from "../../lib/state/json-docs-files.ts";
import { toolsModule } from "../../lib/tools/mod.ts";
import type { GatewayModule } from "../../lib/types.ts";
import { controlUiModule } from "../../lib/ui/mod.ts";
import type { ProfilePaths } from "../command.ts";
import { configMethodsModule } from "./config-methods.ts";

/**
 * Fresh modules for one gateway instance (an in-process restart builds new ones): agents, sessions and
 * models (sessions and transcripts are kept as JSONL under the state dir by `runGateway`), the OpenAI-compatible `/v1/*`
 * endpoints (served when `gateway.http.endpoints.*.enabled` is on), tools and `/tools/invoke`, metrics,
 * channels, hooks, the Control UI, and the `config.*` methods over the profile's config file. Agents
 * come first: the others reach its runtime during their setup.
 */
export function gatewayModules(paths: Pick<ProfilePaths, "stateDir" | "configPath">): GatewayModule[] {
  const agents = agentsModule();
  const metrics = metricsModule({ agents, memoryUsage: () => Deno.memoryUsage() });
  // Pairing approvals and Telegram offsets live in the state dir, where `openclaw pairing` finds them.
  const channels = channelsModule({ agents, metrics: metrics.recorder, state: fileJsonDocs(paths.stateDir) });
  return [
    agents,
    openAiHttpModule({ agents }),
    toolsModule({ agents }),
    metrics,
    channels,
    hooksModule({ agents, channels, metrics: metrics.recorder }),
    controlUiModule(),
    configMethodsModule({ configPath: paths.configPath }),
  ];
}
