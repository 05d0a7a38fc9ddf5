/**
 * Module setup: installs the built-in system methods and then the host's modules, once, in order; the
 * first caller (start, a request, an in-process call) runs it and the others wait for it.
 *
 * @module
 */
import { approvalClientsOnline } from "./approval-clients.ts";
import { deviceTokenFrom } from "./authentication.ts";
import { devicesModule } from "../methods/devices.ts";
import { execApprovalsModule } from "../methods/exec-approvals.ts";
import { systemModule } from "../methods/system.ts";
import type { GatewayContext } from "../types.ts";
import { type GatewayCore, listeningAddress } from "./core.ts";
import { readSections } from "./probes.ts";
import type { PresenceRows } from "./presence.ts";
import type { GatewayOptions } from "./types.ts";

/** Runs module setup once and tells whether it finished. */
export interface ModuleSetup {
  /** Starts setup on the first call; every call returns the same promise. */
  setup(): Promise<void>;
  /** True once every module's setup has returned (requests then skip the wait). */
  complete(): boolean;
}

/** What the system module reports besides the core. */
export interface SystemParts {
  /** The health snapshot (`health` method). */
  health: () => Promise<Record<string, unknown>>;
  /** The rows `system-presence` lists. */
  presenceRows: PresenceRows;
}

/** The close code the reference gives a socket whose device was removed or whose token was retired. */
const DEVICE_REMOVED_CLOSE = 4001;

/** Creates the module setup over `context`; `options.modules` come after the system module. */
export function moduleSetup(
  { state, now, newId, logger, logTail, registry, connections, stores, extensions: { statusSections } }:
    GatewayCore,
  context: GatewayContext,
  { health, presenceRows }: SystemParts,
  options: Pick<GatewayOptions, "modules">,
): ModuleSetup {
  const newToken = () => deviceTokenFrom(newId);
  const approvalClients = approvalClientsOnline(connections, stores.presence, now);
  const connectedDevices = async () =>
    new Set(
      (await stores.presence.list(now())).flatMap((row) => row.deviceId ? [row.deviceId.toLowerCase()] : []),
    );
  let setupDone: Promise<void> | undefined;
  let setupComplete = false;
  const setup = () => {
    setupDone ??= (async () => {
      const modules = [
        systemModule({
          health,
          presence: () => presenceRows.list(),
          uptimeMs: () => Math.round(now() - state.startedAt),
          connections: () => connections.size,
          authMode: () => state.auth.mode,
          address: () => listeningAddress(state),
          methods: () => registry.names(),
          sections: (view) => readSections(statusSections.map((section) => () => section(view)), logger),
        }, () => logTail),
        devicesModule(
          { devices: stores.devices, now, newToken, newId, connectedDevices },
          ({ deviceId, role }) => {
            for (const connection of connections) {
              const caller = connection.caller;
              if (caller?.deviceId !== deviceId || (role && caller.role !== role)) continue;
              connection.close(DEVICE_REMOVED_CLOSE, "device removed");
            }
          },
        ),
        execApprovalsModule({ store: stores.execApprovals, now, newId, approvalClients }),
        ...(options.modules ?? []),
      ];
      for (const module of modules) {
        await module.setup(context);
        logger.debug("module ready", { module: module.name });
      }
      setupComplete = true;
    })();
    return setupDone;
  };
  return { setup, complete: () => setupComplete };
}
