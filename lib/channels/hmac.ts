/**
 * HMAC-SHA256 signatures for the generic webhook channel: `X-OpenClaw-Signature: sha256=<hex>` over
 * `<timestamp>.<body>`, with `X-OpenClaw-Timestamp` in ms (decimal) so a request is only good for a few
 * minutes; within them the receiver remembers what it accepted (see replay.ts).
 *
 * @module
 */

/** Header carrying the signature. */
export const SIGNATURE_HEADER = "x-openclaw-signature";
/** Header carrying the signing time (ms since epoch). */
export const TIMESTAMP_HEADER = "x-openclaw-timestamp";
/** How far a signed timestamp may be from now. */
export const SIGNATURE_TOLERANCE_MS = 5 * 60_000;

const encoder = new TextEncoder();

async function key(secret: string): Promise<CryptoKey> {
  return await crypto.subtle.importKey(
    "raw",
    encoder.encode(secret),
    { name: "HMAC", hash: "SHA-256" },
    false,
    [
      "sign",
      "verify",
    ],
  );
}

/** `sha256=<hex>` for `body` signed at `timestamp`. */
export async function sign(secret: string, timestamp: number, body: string): Promise<string> {
  const mac = await crypto.subtle.sign("HMAC", await key(secret), encoder.encode(`${timestamp}.${body}`));
  return `sha256=${[...new Uint8Array(mac)].map((b) => b.toString(16).padStart(2, "0")).join("")}`;
}

/** Signature headers that are well formed and fresh; the body is not checked yet. */
export interface SignatureClaim {
  /** The `<hex>` of `sha256=<hex>`, lowercase: the key under which a replay is recognised. */
  hex: string;
  /** The timestamp as sent (decimal digits), exactly as it was signed. */
  timestamp: string;
  /** The timestamp in ms since epoch. */
  at: number;
}

/**
 * Checks the signature headers before any body is read: both present, the timestamp plain decimal
 * digits (no hex, exponent, sign or spaces, which `Number()` would accept) strictly within the window
 * around `now`. Returns why they fail, or the claim to verify against the body.
 */
export function checkSignatureHeaders(headers: Headers, now: number): SignatureClaim | string {
  const signature = headers.get(SIGNATURE_HEADER) ?? "";
  const timestamp = headers.get(TIMESTAMP_HEADER) ?? "";
  if (!signature || !timestamp) return `missing ${SIGNATURE_HEADER} or ${TIMESTAMP_HEADER}`;
  if (!/^\d{1,15}$/.test(timestamp)) {
    return `${TIMESTAMP_HEADER} must be decimal milliseconds since the epoch`;
  }
  const at = Number(timestamp);
  if (Math.abs(now - at) >= SIGNATURE_TOLERANCE_MS) {
    // Many senders stamp seconds; say so rather than leave them guessing at their clock.
    const unit = Math.abs(now - at * 1000) < SIGNATURE_TOLERANCE_MS
      ? ` (${TIMESTAMP_HEADER} is in ms, not seconds)`
      : "";
    return `signature timestamp outside the 5 minute window${unit}`;
  }
  const hex = /^sha256=([0-9a-f]{64})$/i.exec(signature)?.[1];
  if (!hex) return "signature is not sha256=<hex>";
  return { hex: hex.toLowerCase(), timestamp, at };
}

/** Whether `body` carries the claimed signature under `secret`. Constant-time compare. */
export async function verifySignature(secret: string, claim: SignatureClaim, body: string): Promise<boolean> {
  const bytes = new Uint8Array(claim.hex.match(/../g)!.map((h) => parseInt(h, 16)));
  return await crypto.subtle.verify(
    "HMAC",
    await key(secret),
    bytes,
    encoder.encode(`${claim.timestamp}.${body}`),
  );
}
