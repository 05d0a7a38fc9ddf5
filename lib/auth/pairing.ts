/**
 * Pairing at connect, for a device that proved its key: whether its approval covers what it asks for
 * and why not; a local device approved on the spot; a remote one's request recorded, announced and
 * refused with the reference's `NOT_PAIRED`, which points the operator at the pending request.
 *
 * @module
 */
import { GatewayError } from "../errors.ts";
import type { ConnectParams } from "../protocol/frames.ts";
import { scopeSatisfied } from "../protocol/scopes.ts";
import {
  approvedPairing,
  type DeviceStore,
  type PairedDevice,
  type PairingRequestOutcome,
  type PendingPairing,
} from "../state/devices.ts";
import { isDirectLocal } from "./locality.ts";

/** Why a device must be (re-)approved, in the reference's words. */
export type PairingReason = "not-paired" | "role-upgrade" | "scope-upgrade";

const REQUIREMENT: Record<PairingReason, string> = {
  "not-paired": "device is not approved yet",
  "role-upgrade": "device is asking for a higher role than currently approved",
  "scope-upgrade": "device is asking for more scopes than currently approved",
};

const REMEDIATION: Record<PairingReason, string> = {
  "not-paired": "Approve this device from the pending pairing requests.",
  "role-upgrade": "Review the requested role upgrade, then approve the pending request.",
  "scope-upgrade": "Review the requested scopes, then approve the pending upgrade.",
};

/** The roles of `device` whose token is still live: a revoked role is no longer approved. */
export function approvedRoles(device: PairedDevice): string[] {
  return device.roles.filter((role) => device.tokens[role] && !device.tokens[role].revokedAtMs);
}

/** Why `device` (as stored) does not cover a connect with `publicKey`, `role` and `scopes`; none if it does. */
export function pairingShortfall(
  device: PairedDevice | undefined,
  publicKey: string,
  role: string,
  scopes: readonly string[],
): PairingReason | undefined {
  if (!device || device.publicKey !== publicKey) return "not-paired";
  if (!approvedRoles(device).includes(role)) return "role-upgrade";
  if (!scopes.every((scope) => scopeSatisfied(device.scopes, scope))) return "scope-upgrade";
  return undefined;
}

/** What the refusal names. */
export interface PairingRefusal {
  reason: PairingReason;
  requestId: string;
  deviceId: string;
  role: string;
  scopes: readonly string[];
  /** The device's current approval, when it is paired with the same key. */
  approved?: PairedDevice;
}

/** The reference's `NOT_PAIRED` connect error for a device that waits for approval. */
export function pairingRequired(refusal: PairingRefusal): GatewayError {
  const { approved } = refusal;
  const roles = approved ? approvedRoles(approved) : [];
  return new GatewayError("NOT_PAIRED", `pairing required: ${REQUIREMENT[refusal.reason]}`, {
    details: {
      code: "PAIRING_REQUIRED",
      reason: refusal.reason,
      requestId: refusal.requestId,
      remediationHint: REMEDIATION[refusal.reason],
      deviceId: refusal.deviceId,
      requestedRole: refusal.role,
      requestedScopes: [...refusal.scopes],
      ...(roles.length ? { approvedRoles: roles } : {}),
      ...(approved?.scopes.length ? { approvedScopes: [...approved.scopes] } : {}),
    },
  });
}

/** What pairing at connect needs from the gateway. */
export interface PairingDeps {
  devices: DeviceStore;
  /** Told about each pairing request a connect recorded (to announce `device.pair.requested`). */
  pairingRequested?(outcome: PairingRequestOutcome): void;
  now(): number;
  newToken(): string;
  /** A fresh pairing request id. */
  newRequestId(): string;
}

/** A connect whose device proof checked out. */
export interface ProvenConnect {
  /** The connect params, `device` set. */
  params: ConnectParams;
  /** The socket peer and its headers: only a direct local peer is approved without an operator. */
  peer: string;
  headers: Headers;
  /** The client address the connect is attributed to, recorded with a request. */
  remoteIp: string;
  /** The scopes it asks for. */
  scopes: string[];
}

/**
 * The pairing that admits a proven device: its approval when that covers the connect, or a silent one
 * when it connects directly from this machine. Otherwise its request is recorded and announced, and
 * this throws the `NOT_PAIRED` refusal.
 */
export async function admittingPairing(deps: PairingDeps, connect: ProvenConnect): Promise<PairedDevice> {
  const { params, scopes } = connect;
  const device = params.device!;
  const deviceId = device.id.toLowerCase();
  const existing = await deps.devices.get(deviceId);
  const reason = pairingShortfall(existing, device.publicKey, params.role, scopes);
  if (!reason) return existing!;
  const request = pairingRequest(deps, connect, existing);
  if (isDirectLocal(connect.peer, connect.headers)) {
    const paired = approvedPairing(existing, request, {
      newToken: deps.newToken(),
      now: request.ts,
      via: "silent",
    });
    await deps.devices.save(paired);
    return paired;
  }
  const outcome = await deps.devices.request(request);
  deps.pairingRequested?.(outcome);
  throw pairingRequired({
    reason,
    requestId: outcome.request.requestId,
    deviceId,
    role: params.role,
    scopes,
    approved: existing?.publicKey === device.publicKey ? existing : undefined,
  });
}

/** The request a connect makes of an operator (or approves itself, when local). */
function pairingRequest(
  deps: PairingDeps,
  { params, scopes, remoteIp }: ProvenConnect,
  existing: PairedDevice | undefined,
): PendingPairing {
  const device = params.device!;
  const now = deps.now();
  return {
    requestId: deps.newRequestId(),
    deviceId: device.id.toLowerCase(),
    publicKey: device.publicKey,
    ...clientMetadata(params),
    role: params.role,
    scopes: [...scopes].sort(),
    remoteIp,
    roles: [params.role],
    silent: false,
    isRepair: existing?.publicKey === device.publicKey,
    ts: now,
  };
}

/** The client facts a pairing request records, as the reference lists them. */
function clientMetadata(params: ConnectParams): Record<string, string> {
  const { displayName, platform, deviceFamily, id, mode } = params.client;
  const facts: Record<string, string | undefined> = {
    displayName,
    platform,
    deviceFamily,
    clientId: id,
    clientMode: mode,
  };
  return Object.fromEntries(Object.entries(facts).filter((entry): entry is [string, string] => !!entry[1]));
}
