/**
 * The feature modules a CLI-run gateway installs on top of the core's built-in methods.
 *
 * @module
 */
import { agentsModule } from "../../lib/agents/agents-module.ts";
import { openAiHttpModule } from "../../lib/http/openai/openai-module.ts";
import { channelsModule } from "../../lib/channels/channels-module.ts";
import { clusterModule } from "../../lib/cluster/cluster-module.ts";
import { cronModule } from "../../lib/cron/cron-module.ts";
import { metricsModule } from "../../lib/metrics/metrics-module.ts";
import { nodesModule } from "../../lib/nodes/nodes-module.ts";
import { toolsModule } from "../../lib/tools/tools-module.ts";
import type { GatewayModule } from "../../lib/types.ts";
import { controlUiModule } from "../../lib/ui/ui-module.ts";
import type { ProfilePaths } from "../command.ts";
import { configMethodsModule } from "./config-methods.ts";
import { readDenoHostInfo } from "./deno-host-info.ts";
import { denoUiRootFiles } from "./deno-ui-files.ts";
import { lazyModule } from "./lazy-module.ts";

/**
 * Fresh modules for one gateway instance (an in-process restart builds new ones): agents, sessions and
 * models (sessions, transcripts, cron jobs and channel pairing are kept under the state dir, or on Redis,
 * by the stores `runGateway` hands the gateway), the OpenAI-compatible `/v1/*`
 * endpoints (served when `gateway.http.endpoints.*.enabled` is on), tools and `/tools/invoke`, nodes (whose
 * commands the agents may call as tools), metrics, channels, hooks (imported only once `hooks.enabled` is
 * on), cron, the Control UI, the `config.*` methods over the profile's config file, and the cluster module
 * (this replica among the peers, `status.cluster`). The order is free: modules reach the agents runtime
 * through the context
 * (`AGENT_RUNTIME`).
 */
export function gatewayModules(paths: Pick<ProfilePaths, "configPath">): GatewayModule[] {
  const agents = agentsModule();
  const metrics = metricsModule({ memoryUsage: () => Deno.memoryUsage() });
  const channels = channelsModule({ agents, metrics: metrics.recorder });
  const tools = toolsModule({ agents });
  return [
    agents,
    openAiHttpModule({ agents }),
    tools,
    nodesModule({ tools }),
    metrics,
    channels,
    // While off, the hooks route answers 404 as an unknown path does, so leaving it out changes no answer.
    lazyModule(
      "hooks",
      (config) => config.hooks?.enabled === true,
      async () =>
        (await import("../../lib/hooks/hooks-module.ts")).hooksModule({
          agents,
          channels,
          metrics: metrics.recorder,
        }),
    ),
    cronModule(),
    controlUiModule({ rootFiles: denoUiRootFiles, hostInfo: readDenoHostInfo }),
    configMethodsModule({ configPath: paths.configPath }),
    clusterModule({ self: { host: Deno.hostname(), pid: Deno.pid } }),
  ];
}
