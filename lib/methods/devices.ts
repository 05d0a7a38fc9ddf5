/**
 * Device pairing as an operator manages it: `device.pair.list/approve/reject/remove` and
 * `device.token.rotate/revoke`, with the `device.pair.requested` / `device.pair.resolved` events and the
 * reference's authority rules (a non-admin device caller manages only itself; non-operator roles need
 * admin). Removing a device or retiring one of its tokens closes its live sockets on every replica.
 *
 * @module
 */
import * as z from "zod";
import { GatewayError } from "../errors.ts";
import { scopeSatisfied } from "../protocol/scopes.ts";
import {
  approvedPairing,
  type DeviceAuthToken,
  type DeviceStore,
  type PairedDevice,
  type PairingRequestOutcome,
} from "../state/devices.ts";
import { type AnyMethod, type CallerIdentity, defineMethod } from "./descriptor.ts";
import type { BuiltInEventSink, BuiltInModuleHost } from "./module-host.ts";
import { confinedTo, isAdmin, NODE_PAIR_EVENTS, nodePairMethods } from "./node-pairing.ts";

/** What the devices methods need from the gateway. */
export interface DevicesHost {
  devices: DeviceStore;
  /** The device ids with a connected client on any replica (presence rows carry them). */
  connectedDevices(): Promise<ReadonlySet<string>>;
  events: BuiltInEventSink;
  now(): number;
  newToken(): string;
}

/** The internal bus event that makes every replica close a device's sockets. */
export const DEVICE_SOCKETS_CLOSE = "device.sockets.close";

/** What {@link DEVICE_SOCKETS_CLOSE} carries: the device, and the role whose sockets go (all when absent). */
export interface DeviceSocketsClose {
  deviceId: string;
  role?: string;
}

/** The pairing events, for `hello-ok.features.events`. */
export const DEVICE_PAIR_EVENTS = ["device.pair.requested", "device.pair.resolved"] as const;

const PAIRING_SCOPE = "operator.pairing";

function resolved(
  events: BuiltInEventSink,
  requestId: string,
  deviceId: string,
  decision: string,
  ts: number,
) {
  events.publish({
    event: "device.pair.resolved",
    payload: { requestId, deviceId, decision, ts },
    scope: PAIRING_SCOPE,
    dropIfSlow: true,
  });
}

/**
 * Announces what a connect's pairing request did: superseded requests resolve as rejected, one a full
 * gateway pushed out as expired (no operator rejected it), and a new one is requested.
 */
export function announcePairingRequest(
  events: BuiltInEventSink,
  outcome: PairingRequestOutcome,
  now: number,
): void {
  for (const old of outcome.superseded) resolved(events, old.requestId, old.deviceId, "rejected", now);
  for (const old of outcome.evicted) resolved(events, old.requestId, old.deviceId, "expired", now);
  if (!outcome.created) return;
  events.publish({
    event: "device.pair.requested",
    payload: outcome.request,
    scope: PAIRING_SCOPE,
    dropIfSlow: true,
  });
}

/** A pairing as `device.pair.list` shows it: token metadata without the bearer strings. */
export function redactPairedDevice(device: PairedDevice, connected?: boolean): Record<string, unknown> {
  const { tokens, ...rest } = device;
  const summaries = Object.values(tokens)
    .map(({ token: _token, ...summary }: DeviceAuthToken) => summary)
    .sort((a, b) => a.role.localeCompare(b.role));
  return {
    ...rest,
    ...(connected === undefined ? {} : { connected }),
    ...(summaries.length ? { tokens: summaries } : {}),
  };
}

function denied(message: string): GatewayError {
  return new GatewayError("INVALID_REQUEST", message);
}

const RequestId = z.strictObject({ requestId: z.string().min(1) });
const DeviceId = z.strictObject({ deviceId: z.string().min(1) });
const DeviceRole = z.strictObject({ deviceId: z.string().min(1), role: z.string().min(1) });
const Rotate = DeviceRole.extend({ scopes: z.array(z.string().min(1)).optional() });

/** `device.pair.*` and `device.token.*`. */
export function deviceMethods(host: DevicesHost): AnyMethod[] {
  const { devices, events, now } = host;
  const closeSockets = (close: DeviceSocketsClose) =>
    events.publish({ event: DEVICE_SOCKETS_CLOSE, payload: close, internal: true });
  return [
    defineMethod({
      name: "device.pair.list",
      scope: PAIRING_SCOPE,
      params: z.strictObject({}),
      handler: async ({ caller }) => {
        const own = confinedTo(caller);
        const mine = (deviceId: string) => !own || deviceId === own;
        const [pending, paired, connected] = await Promise.all([
          devices.listPending(now()),
          devices.list(),
          host.connectedDevices(),
        ]);
        return {
          pending: pending.filter((r) => mine(r.deviceId)),
          paired: paired.filter((d) => mine(d.deviceId)).map((d) =>
            redactPairedDevice(d, connected.has(d.deviceId))
          ),
        };
      },
    }),
    defineMethod({
      name: "device.pair.approve",
      scope: PAIRING_SCOPE,
      params: RequestId,
      handler: async ({ params, caller }) => {
        const requestId = params.requestId.trim();
        if (!isAdmin(caller)) {
          const pending = await devices.pending(requestId, now());
          const own = confinedTo(caller);
          if (!pending || (own && pending.deviceId !== own) || pending.role !== "operator") {
            throw denied("device pairing approval denied");
          }
          const missing = pending.scopes.find((scope) => !scopeSatisfied(caller.scopes, scope));
          if (missing) throw denied(`missing scope: ${missing}`);
        }
        const request = await devices.takePending(requestId, now());
        if (!request) throw denied("unknown requestId");
        const existing = await devices.get(request.deviceId);
        const device = approvedPairing(existing, request, {
          newToken: host.newToken(),
          now: now(),
          via: "owner",
        });
        await devices.save(device);
        resolved(events, requestId, device.deviceId, "approved", now());
        return { requestId, device: redactPairedDevice(device) };
      },
    }),
    defineMethod({
      name: "device.pair.reject",
      scope: PAIRING_SCOPE,
      params: RequestId,
      handler: async ({ params, caller }) => {
        const requestId = params.requestId.trim();
        const own = confinedTo(caller);
        if (own && (await devices.pending(requestId, now()))?.deviceId !== own) {
          throw denied("device pairing rejection denied");
        }
        const request = await devices.takePending(requestId, now());
        if (!request) throw denied("unknown requestId");
        resolved(events, requestId, request.deviceId, "rejected", now());
        return { requestId, deviceId: request.deviceId };
      },
    }),
    defineMethod({
      name: "device.pair.remove",
      scope: PAIRING_SCOPE,
      params: DeviceId,
      handler: async ({ params, caller }) => {
        const deviceId = params.deviceId.trim().toLowerCase();
        const own = confinedTo(caller);
        if (own && own !== deviceId) throw denied("device pairing removal denied");
        if (own && (await devices.get(deviceId))?.roles.some((role) => role !== "operator")) {
          throw denied("device pairing removal denied");
        }
        const removed = await devices.remove(deviceId);
        if (!removed) throw denied("unknown deviceId");
        closeSockets({ deviceId });
        return { deviceId };
      },
    }),
    defineMethod({
      name: "device.token.rotate",
      scope: PAIRING_SCOPE,
      params: Rotate,
      handler: async ({ params, caller }) => {
        const deviceId = params.deviceId.trim().toLowerCase();
        const role = params.role.trim();
        const device = await managedDevice(devices, caller, deviceId, role, "device token rotation denied");
        const current = device.tokens[role];
        const scopes = [...new Set(params.scopes ?? current?.scopes ?? [])].sort();
        const outside = scopes.find((scope) =>
          !scopeSatisfied(device.scopes, scope) ||
          (role === "operator" && !isAdmin(caller) && !scopeSatisfied(caller.scopes, scope))
        );
        if (outside) throw denied("device token rotation denied");
        const rotatedAtMs = now();
        const token: DeviceAuthToken = {
          token: host.newToken(),
          role,
          scopes,
          createdAtMs: current?.createdAtMs ?? rotatedAtMs,
          rotatedAtMs,
        };
        await devices.save({ ...device, tokens: { ...device.tokens, [role]: token } });
        closeSockets({ deviceId, role });
        const inBand = caller.deviceId?.toLowerCase() === deviceId;
        return {
          deviceId,
          role,
          ...(inBand ? { token: token.token } : {}),
          scopes,
          rotatedAtMs,
          tokenDelivery: inBand ? "in-band" : "withheld-cross-device",
        };
      },
    }),
    defineMethod({
      name: "device.token.revoke",
      scope: PAIRING_SCOPE,
      params: DeviceRole,
      handler: async ({ params, caller }) => {
        const deviceId = params.deviceId.trim().toLowerCase();
        const role = params.role.trim();
        const device = await managedDevice(devices, caller, deviceId, role, "device token revocation denied");
        const current = device.tokens[role];
        if (!current) throw denied("device token revocation denied");
        const revokedAtMs = current.revokedAtMs ?? now();
        await devices.save({ ...device, tokens: { ...device.tokens, [role]: { ...current, revokedAtMs } } });
        closeSockets({ deviceId, role });
        return { deviceId, role, revokedAtMs };
      },
    }),
  ];
}

/** The device a token call may manage: the caller's own (or any, for admin), with `role` approved. */
async function managedDevice(
  devices: DeviceStore,
  caller: CallerIdentity,
  deviceId: string,
  role: string,
  message: string,
): Promise<PairedDevice> {
  const own = confinedTo(caller);
  if ((own && own !== deviceId) || (role !== "operator" && !isAdmin(caller))) throw denied(message);
  const device = await devices.get(deviceId);
  if (!device?.roles.includes(role)) throw denied(message);
  return device;
}

/**
 * The built-in module of device and node pairing; `closeSockets` closes this process's sockets of a device
 * (each replica runs it when any replica removes the device or retires one of its tokens).
 */
export function devicesModule(
  host: Omit<DevicesHost, "events"> & { newId(): string },
  closeSockets: (close: DeviceSocketsClose) => void,
): { name: string; setup(context: BuiltInModuleHost): void } {
  return {
    name: "devices",
    setup(context) {
      const events = context.bus;
      const methods = [
        ...deviceMethods({ ...host, events }),
        ...nodePairMethods({
          ...host,
          events,
          closeNodeSockets: (deviceId) =>
            events.publish({
              event: DEVICE_SOCKETS_CLOSE,
              payload: { deviceId, role: "node" },
              internal: true,
            }),
        }),
      ];
      for (const method of methods) context.registerMethod(method);
      context.declareEvents([...DEVICE_PAIR_EVENTS, ...NODE_PAIR_EVENTS]);
      context.onStop(context.bus.subscribe((event) => {
        if (!event.internal || event.event !== DEVICE_SOCKETS_CLOSE) return;
        // After the answer that caused it has gone out: a device may rotate or remove its own pairing.
        setTimeout(() => closeSockets(event.payload as DeviceSocketsClose), 0);
      }));
    },
  };
}
