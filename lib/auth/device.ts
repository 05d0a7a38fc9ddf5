/**
 * Device identity proof: an Ed25519 signature over a payload that binds the challenge nonce to the
 * device, client, role, scopes and token. v3 payloads (with platform and device family) are preferred;
 * v2 is still accepted.
 *
 * @module
 */
import { base64UrlDecode } from "../encoding.ts";
import { GatewayError } from "../errors.ts";
import { deviceAuthPayloadV2, deviceAuthPayloadV3 } from "../protocol/device-auth-payload.ts";

/** The `device` object of `connect` params. */
export interface DeviceProof {
  id: string;
  publicKey: string;
  signature: string;
  signedAt: number;
  nonce?: string;
}

/** What the signature must cover besides the device itself. */
export interface DeviceProofContext {
  clientId: string;
  clientMode: string;
  role: string;
  scopes: readonly string[];
  token: string;
  nonce: string;
  platform?: string;
  deviceFamily?: string;
}

/** How far `signedAt` may be from now before the proof counts as stale. */
export const DEVICE_SIGNATURE_MAX_SKEW_MS = 10 * 60_000;

/** The exact strings a client signs, newest format first. */
export function deviceProofPayloads(proof: DeviceProof, ctx: DeviceProofContext): string[] {
  const claim = { ...ctx, deviceId: proof.id, signedAtMs: proof.signedAt };
  return [deviceAuthPayloadV3(claim), deviceAuthPayloadV2(claim)];
}

function hex(bytes: ArrayBuffer): string {
  return [...new Uint8Array(bytes)].map((b) => b.toString(16).padStart(2, "0")).join("");
}

/** A device id is the SHA-256 fingerprint (hex) of its raw public key. */
export async function deviceIdFor(publicKey: Uint8Array): Promise<string> {
  return hex(await crypto.subtle.digest("SHA-256", publicKey as Uint8Array<ArrayBuffer>));
}

function deviceError(code: string, reason: string, message: string): GatewayError {
  return new GatewayError("INVALID_REQUEST", message, { details: { code, reason } });
}

/** Checks a device proof; throws a `GatewayError` whose `details.code` names what is wrong. */
export async function verifyDeviceProof(
  proof: DeviceProof,
  ctx: DeviceProofContext,
  now: number,
): Promise<void> {
  checkChallenge(proof, ctx.nonce, now);
  const key = await deviceKey(proof);
  if (!(await signsAPayload(key, proof, ctx))) {
    throw deviceError(
      "DEVICE_AUTH_SIGNATURE_INVALID",
      "device-signature",
      "device signature does not verify",
    );
  }
}

/** Throws unless the proof echoes this connection's challenge and was signed recently. */
function checkChallenge(proof: DeviceProof, nonce: string, now: number): void {
  if (!proof.nonce) {
    throw deviceError(
      "DEVICE_AUTH_NONCE_REQUIRED",
      "device-nonce-missing",
      "device proof must echo the challenge nonce",
    );
  }
  if (proof.nonce !== nonce) {
    throw deviceError(
      "DEVICE_AUTH_NONCE_MISMATCH",
      "device-nonce-mismatch",
      "device proof nonce does not match this connection's challenge",
    );
  }
  if (Math.abs(now - proof.signedAt) > DEVICE_SIGNATURE_MAX_SKEW_MS) {
    throw deviceError(
      "DEVICE_AUTH_SIGNATURE_EXPIRED",
      "device-signature-stale",
      "device signature is stale; check the device clock",
    );
  }
}

/** The proof's Ed25519 public key; throws unless it is one and the device id is its fingerprint. */
async function deviceKey(proof: DeviceProof): Promise<CryptoKey> {
  let raw: Uint8Array;
  let key: CryptoKey;
  try {
    raw = base64UrlDecode(proof.publicKey);
    if (raw.length !== 32) throw new Error("wrong length");
    key = await crypto.subtle.importKey("raw", raw as Uint8Array<ArrayBuffer>, { name: "Ed25519" }, false, [
      "verify",
    ]);
  } catch {
    throw deviceError(
      "DEVICE_AUTH_PUBLIC_KEY_INVALID",
      "device-public-key",
      "device public key is not a base64url Ed25519 key",
    );
  }
  if ((await deviceIdFor(raw)) !== proof.id.toLowerCase()) {
    throw deviceError(
      "DEVICE_AUTH_DEVICE_ID_MISMATCH",
      "device-id-mismatch",
      "device id is not the fingerprint of its public key",
    );
  }
  return key;
}

/** Whether the proof's signature verifies over one of the payloads a client may sign. */
async function signsAPayload(key: CryptoKey, proof: DeviceProof, ctx: DeviceProofContext): Promise<boolean> {
  let signature: Uint8Array;
  try {
    signature = base64UrlDecode(proof.signature);
  } catch {
    signature = new Uint8Array();
  }
  const encoder = new TextEncoder();
  for (const payload of deviceProofPayloads(proof, ctx)) {
    const ok = await crypto.subtle.verify(
      "Ed25519",
      key,
      signature as Uint8Array<ArrayBuffer>,
      encoder.encode(payload),
    );
    if (ok) return true;
  }
  return false;
}
