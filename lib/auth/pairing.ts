/**
 * Pairing decisions at connect: whether a device's approval covers what it asks for, why not, and the
 * reference's `NOT_PAIRED` refusal that points the operator at the pending request.
 *
 * @module
 */
import { GatewayError } from "../errors.ts";
import { scopeSatisfied } from "../protocol/scopes.ts";
import type { PairedDevice } from "../state/devices.ts";

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
