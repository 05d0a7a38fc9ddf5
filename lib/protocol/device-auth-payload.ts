/**
 * The strings a device signs at `connect`: they bind the challenge nonce to the device, client, role,
 * scopes and token. v3 (preferred) adds the platform and device family; v2 is still accepted. Shared by
 * the gateway, which verifies them, and the client, which signs them.
 *
 * @module
 */

/** What a device's connect signature covers. */
export interface DeviceAuthClaim {
  deviceId: string;
  clientId: string;
  clientMode: string;
  role: string;
  scopes: readonly string[];
  /** The challenge's `ts` the client answers (the proof's `signedAt`). */
  signedAtMs: number;
  /** The first token the connect sends (`auth.token`, else `auth.deviceToken`, else `auth.bootstrapToken`), or "". */
  token: string;
  nonce: string;
  platform?: string;
  deviceFamily?: string;
}

function normaliseAscii(value: string | undefined): string {
  return (value ?? "").trim().replace(/[A-Z]/g, (c) => c.toLowerCase());
}

function common(claim: DeviceAuthClaim): string[] {
  return [
    claim.deviceId,
    claim.clientId,
    claim.clientMode,
    claim.role,
    claim.scopes.join(","),
    String(claim.signedAtMs),
    claim.token,
    claim.nonce,
  ];
}

/** The v3 payload: the v2 fields plus the lower-cased platform and device family. */
export function deviceAuthPayloadV3(claim: DeviceAuthClaim): string {
  return ["v3", ...common(claim), normaliseAscii(claim.platform), normaliseAscii(claim.deviceFamily)].join(
    "|",
  );
}

/** The v2 payload, still accepted from older clients. */
export function deviceAuthPayloadV2(claim: DeviceAuthClaim): string {
  return ["v2", ...common(claim)].join("|");
}
