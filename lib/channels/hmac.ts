/**
 * HMAC-SHA256 signatures for the generic webhook channel: `X-OpenClaw-Signature: sha256=<hex>` over
 * `<timestamp>.<body>`, with `X-OpenClaw-Timestamp` in ms so old requests cannot be replayed.
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

/** Checks a request's signature headers; returns why it fails, or undefined. Constant-time compare. */
export async function verify(
  secret: string,
  headers: Headers,
  body: string,
  now: number,
): Promise<string | undefined> {
  const signature = headers.get(SIGNATURE_HEADER) ?? "";
  const timestamp = Number(headers.get(TIMESTAMP_HEADER));
  if (!signature || !Number.isFinite(timestamp)) return `missing ${SIGNATURE_HEADER} or ${TIMESTAMP_HEADER}`;
  if (Math.abs(now - timestamp) > SIGNATURE_TOLERANCE_MS) {
    return "signature timestamp outside the 5 minute window";
  }
  const hex = /^sha256=([0-9a-f]{64})$/i.exec(signature)?.[1];
  if (!hex) return "signature is not sha256=<hex>";
  const bytes = new Uint8Array(hex.match(/../g)!.map((h) => parseInt(h, 16)));
  const ok = await crypto.subtle.verify(
    "HMAC",
    await key(secret),
    bytes,
    encoder.encode(`${timestamp}.${body}`),
  );
  return ok ? undefined : "signature mismatch";
}
