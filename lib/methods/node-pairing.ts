/**
 * Node capability approval (`node.pair.list/approve/reject/remove`, events `node.pair.requested` /
 * `node.pair.resolved`), on the device records of `stores.devices` as the reference keeps it: device
 * pairing (role `node`) admits a node's socket; the commands and caps it declares are a separate
 * request, approved once and widened by later requests. Which commands a live node may run is the
 * approved surface ∩ what it declares now ({@link approvedNodeCommands}).
 *
 * @module
 */
import * as z from "zod";
import { GatewayError, missingScope } from "../errors.ts";
import type { ConnectParams } from "../protocol/frames.ts";
import { scopeSatisfied } from "../protocol/scopes.ts";
import type { DeviceStore, PairedDevice, PendingNodeSurface } from "../state/devices.ts";
import { type AnyMethod, type CallerIdentity, defineMethod } from "./descriptor.ts";
import type { BuiltInEventSink } from "./module-host.ts";

/** The node pairing events, for `hello-ok.features.events`. */
export const NODE_PAIR_EVENTS = ["node.pair.requested", "node.pair.resolved"] as const;

/** Commands whose approval needs `operator.admin`, as the reference lists them. */
export const ADMIN_NODE_COMMANDS: readonly string[] = [
  "system.run",
  "system.run.prepare",
  "system.which",
  "browser.proxy",
  "browser.proxy.upload.v1",
  "fs.listDir",
  "system.execApprovals.get",
  "system.execApprovals.set",
];

const PAIRING_SCOPE = "operator.pairing";

/** What the node pairing methods need from the gateway. */
export interface NodePairingHost {
  devices: DeviceStore;
  events: BuiltInEventSink;
  now(): number;
  newId(): string;
  /** Closes the `node` sockets of a device on every replica. */
  closeNodeSockets(deviceId: string): void;
}

/** The scopes approving a surface with `commands` needs: pairing, plus write for commands, admin for risky ones. */
export function nodeApprovalScopes(commands: readonly string[]): string[] {
  if (commands.some((c) => ADMIN_NODE_COMMANDS.includes(c))) return [PAIRING_SCOPE, "operator.admin"];
  return commands.length ? [PAIRING_SCOPE, "operator.write"] : [PAIRING_SCOPE];
}

/** The commands a node connected as `device` may be sent: approved, and declared on this connect. */
export function approvedNodeCommands(device: PairedDevice, declared: readonly string[]): string[] {
  const approved = device.nodeSurface?.commands ?? [];
  return declared.filter((command) => approved.includes(command));
}

const within = (declared: readonly string[] | undefined, approved: readonly string[] | undefined) =>
  (declared ?? []).every((item) => (approved ?? []).includes(item));

const sameSet = (a: readonly string[] | undefined, b: readonly string[] | undefined) =>
  within(a, b) && within(b, a);

/** A pending surface as `node.pair.list` and `node.pair.requested` show it. */
function publicPending(device: PairedDevice, pending: PendingNodeSurface): Record<string, unknown> {
  const { requestId, ts, ...facts } = pending;
  return {
    requestId,
    nodeId: device.deviceId,
    clientId: facts.clientId ?? device.clientId,
    clientMode: facts.clientMode ?? device.clientMode,
    displayName: facts.displayName ?? device.displayName,
    platform: facts.platform ?? device.platform,
    version: facts.version,
    deviceFamily: facts.deviceFamily ?? device.deviceFamily,
    modelIdentifier: facts.modelIdentifier,
    caps: facts.caps,
    commands: facts.commands,
    requiredApproveScopes: nodeApprovalScopes(facts.commands ?? []),
    remoteIp: facts.remoteIp ?? device.remoteIp,
    ts,
  };
}

/** An approved node as `node.pair.list` and `node.pair.approve` show it. */
function pairedNode(device: PairedDevice): Record<string, unknown> | undefined {
  const surface = device.nodeSurface;
  if (!surface) return undefined;
  return {
    nodeId: device.deviceId,
    clientId: device.clientId,
    clientMode: device.clientMode,
    displayName: surface.displayName ?? device.displayName,
    platform: device.platform,
    version: surface.version,
    deviceFamily: device.deviceFamily,
    modelIdentifier: surface.modelIdentifier,
    caps: surface.caps,
    commands: surface.commands,
    remoteIp: device.remoteIp,
    createdAtMs: surface.createdAtMs,
    approvedAtMs: surface.approvedAtMs,
  };
}

function resolved(
  events: BuiltInEventSink,
  requestId: string,
  nodeId: string,
  decision: string,
  ts: number,
): void {
  events.publish({
    event: "node.pair.resolved",
    payload: { requestId, nodeId, decision, ts },
    scope: PAIRING_SCOPE,
    dropIfSlow: true,
  });
}

/** What a node's `connect` says about the client, as its live row and its pairing request show it. */
export function nodeClientFacts(
  client: Pick<
    ConnectParams["client"],
    "id" | "mode" | "displayName" | "platform" | "version" | "deviceFamily" | "modelIdentifier"
  >,
  remoteIp: string | undefined,
) {
  return {
    clientId: client.id,
    clientMode: client.mode,
    displayName: client.displayName,
    platform: client.platform,
    version: client.version,
    deviceFamily: client.deviceFamily,
    modelIdentifier: client.modelIdentifier,
    remoteIp,
  };
}

/**
 * Called when a paired device connects as a `node`: a declared surface beyond the approved one becomes
 * (or refreshes) its pending request, announced when it is new.
 */
export async function noteNodeSurface(
  host: Omit<NodePairingHost, "closeNodeSockets">,
  device: PairedDevice,
  params: ConnectParams,
  remoteIp: string | undefined,
): Promise<void> {
  const declared = { caps: params.caps ?? [], commands: params.commands ?? [] };
  const approved = device.nodeSurface;
  if (approved && within(declared.caps, approved.caps) && within(declared.commands, approved.commands)) {
    return;
  }
  const pending = device.pendingNodeSurface;
  if (pending && sameSet(pending.caps, declared.caps) && sameSet(pending.commands, declared.commands)) return;
  const request: PendingNodeSurface = {
    requestId: host.newId(),
    ...Object.fromEntries(
      Object.entries(nodeClientFacts(params.client, remoteIp)).filter(([, value]) => value),
    ),
    ...declared,
    ts: host.now(),
  };
  const current = await host.devices.get(device.deviceId);
  if (!current) return;
  await host.devices.save({ ...current, pendingNodeSurface: request });
  if (pending) resolved(host.events, pending.requestId, device.deviceId, "rejected", request.ts);
  host.events.publish({
    event: "node.pair.requested",
    payload: publicPending(current, request),
    scope: PAIRING_SCOPE,
    dropIfSlow: true,
  });
}

/** Whether `caller` holds `operator.admin`. */
export const isAdmin = (caller: CallerIdentity): boolean => scopeSatisfied(caller.scopes, "operator.admin");

/** The device a non-admin caller is confined to, if any (the reference's device-session authority). */
export function confinedTo(caller: CallerIdentity): string | undefined {
  return caller.deviceId && !isAdmin(caller) ? caller.deviceId.toLowerCase() : undefined;
}

async function pendingOwner(devices: DeviceStore, requestId: string): Promise<PairedDevice | undefined> {
  return (await devices.list()).find((device) => device.pendingNodeSurface?.requestId === requestId);
}

const RequestId = z.strictObject({ requestId: z.string().min(1) });

/** `node.pair.list`, `node.pair.approve`, `node.pair.reject` and `node.pair.remove`. */
export function nodePairMethods(host: NodePairingHost): AnyMethod[] {
  const { devices, events, now } = host;
  /** The device whose pending surface is `requestId`, if the caller may act on it. */
  const pendingFor = async (caller: CallerIdentity, requestId: string, mutation: string) => {
    const device = await pendingOwner(devices, requestId);
    const own = confinedTo(caller);
    if (own && device?.deviceId !== own) {
      throw new GatewayError("INVALID_REQUEST", `node pairing ${mutation} denied`);
    }
    if (!device) throw new GatewayError("INVALID_REQUEST", "unknown requestId");
    return device;
  };
  return [
    defineMethod({
      name: "node.pair.list",
      scope: PAIRING_SCOPE,
      params: z.strictObject({}),
      handler: async ({ caller }) => {
        const own = confinedTo(caller);
        const all = (await devices.list()).filter((d) => !own || d.deviceId === own);
        return {
          pending: all.flatMap((d) => d.pendingNodeSurface ? [publicPending(d, d.pendingNodeSurface)] : [])
            .sort((a, b) => Number(b.ts) - Number(a.ts)),
          paired: all.flatMap((d) => {
            const node = pairedNode(d);
            return node ? [node] : [];
          }).sort((a, b) => Number(b.approvedAtMs) - Number(a.approvedAtMs)),
        };
      },
    }),
    defineMethod({
      name: "node.pair.approve",
      scope: PAIRING_SCOPE,
      params: RequestId,
      handler: async ({ params, caller }) => {
        const device = await pendingFor(caller, params.requestId, "approval");
        const pending = device.pendingNodeSurface!;
        const required = nodeApprovalScopes(pending.commands ?? []);
        const missing = required.find((scope) => !scopeSatisfied(caller.scopes, scope));
        if (missing) {
          throw missingScope(missing, missing === PAIRING_SCOPE ? [PAIRING_SCOPE] : [PAIRING_SCOPE, missing]);
        }
        const at = now();
        const { displayName, version, modelIdentifier, caps, commands } = pending;
        const approved: PairedDevice = {
          ...device,
          nodeSurface: {
            ...Object.fromEntries(
              Object.entries({ displayName, version, modelIdentifier }).filter(([, v]) => v),
            ),
            caps,
            commands,
            createdAtMs: device.nodeSurface?.createdAtMs ?? at,
            approvedAtMs: at,
          },
        };
        delete approved.pendingNodeSurface;
        await devices.save(approved);
        resolved(events, params.requestId, device.deviceId, "approved", at);
        return { requestId: params.requestId, node: pairedNode(approved) };
      },
    }),
    defineMethod({
      name: "node.pair.reject",
      scope: PAIRING_SCOPE,
      params: RequestId,
      handler: async ({ params, caller }) => {
        const device = await pendingFor(caller, params.requestId, "rejection");
        const rest = { ...device };
        delete rest.pendingNodeSurface;
        await devices.save(rest);
        resolved(events, params.requestId, device.deviceId, "rejected", now());
        return { requestId: params.requestId, nodeId: device.deviceId };
      },
    }),
    defineMethod({
      name: "node.pair.remove",
      scope: PAIRING_SCOPE,
      params: z.strictObject({ nodeId: z.string().min(1) }),
      handler: async ({ params, caller }) => {
        const nodeId = params.nodeId.trim().toLowerCase();
        const device = await devices.get(nodeId);
        if (!device?.roles.includes("node")) throw new GatewayError("INVALID_REQUEST", "unknown nodeId");
        const own = confinedTo(caller);
        if (own && (own !== nodeId || device.roles.some((r) => r !== "operator"))) {
          throw new GatewayError("INVALID_REQUEST", "node pairing removal denied");
        }
        const roles = device.roles.filter((role) => role !== "node");
        if (!roles.length) {
          await devices.remove(nodeId);
        } else {
          const { node: _node, ...tokens } = device.tokens;
          const rest: PairedDevice = { ...device, role: roles[0], roles, tokens };
          delete rest.nodeSurface;
          delete rest.pendingNodeSurface;
          await devices.save(rest);
        }
        host.closeNodeSockets(nodeId);
        resolved(events, "", nodeId, "removed", now());
        return { nodeId };
      },
    }),
  ];
}
