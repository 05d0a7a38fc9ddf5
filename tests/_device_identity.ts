// A device identity (Ed25519 key pair) that signs `connect` the way the reference client does (v3 payload).
import { deviceIdFor } from "../lib/auth/device.ts";
import { base64UrlEncode } from "../lib/encoding.ts";
import { type Gateway, type MemorySocket, type MemorySocketOptions, openMemorySocket } from "../mod.ts";
import type { Frame } from "../mod.ts";
import { connectParams, type TestClient, TOKEN } from "./_helpers.ts";

/** A device: its id (the key's fingerprint), its public key, and a signer. */
export interface TestDevice {
  id: string;
  publicKey: string;
  sign(payload: string): Promise<string>;
}

/** A fresh device identity. */
export async function makeDevice(): Promise<TestDevice> {
  const pair = await crypto.subtle.generateKey({ name: "Ed25519" }, true, [
    "sign",
    "verify",
  ]) as CryptoKeyPair;
  const raw = new Uint8Array(await crypto.subtle.exportKey("raw", pair.publicKey));
  return {
    id: await deviceIdFor(raw),
    publicKey: base64UrlEncode(raw),
    async sign(payload) {
      const sig = await crypto.subtle.sign("Ed25519", pair.privateKey, new TextEncoder().encode(payload));
      return base64UrlEncode(new Uint8Array(sig));
    },
  };
}

/** What a device connects as. */
export interface DeviceConnect {
  role?: "operator" | "node";
  scopes?: string[];
  /** `auth.token`: the shared token by default, or a device token. */
  token?: string;
  /** The peer address the in-memory transport reports (a LAN address makes the device non-local). */
  remoteAddress?: string;
  /** The commands a node declares. */
  commands?: string[];
  /** The `client` block; a role's usual one by default. */
  client?: {
    id: string;
    version: string;
    platform: string;
    mode: string;
    deviceFamily: string;
    displayName?: string;
  };
}

/** Connect params with a v3 device proof over `challenge`. */
export async function signedConnectParams(
  device: TestDevice,
  challenge: { nonce: string; ts: number },
  { role = "operator", scopes = ["operator.read", "operator.write"], token = TOKEN, commands, client: given }:
    DeviceConnect = {},
): Promise<Record<string, unknown>> {
  const client = given ??
    (role === "node"
      ? { id: "node-host", version: "1", platform: "Linux", mode: "node", deviceFamily: "Desktop" }
      : {
        id: "ui",
        version: "1",
        platform: "Linux",
        mode: "ui",
        deviceFamily: "Desktop",
        displayName: "Lab PC",
      });
  const granted = role === "node" ? [] : scopes;
  const claim = { client, role, scopes: granted, token, platform: "linux", deviceFamily: "desktop" };
  return connectParams({
    client,
    role,
    scopes: granted,
    auth: { token },
    ...(commands ? { commands } : {}),
    device: await deviceProof(device, challenge, claim),
  });
}

/** What a device's `connect` claims, as its v3 signature covers it. */
export interface DeviceClaim {
  client: { id: string; mode: string };
  role: string;
  scopes: string[];
  token: string;
  /** The client's platform and device family as signed (the reference client lowercases them). */
  platform: string;
  deviceFamily: string;
}

/** The `device` block of a `connect`: `device`'s v3 signature over `claim` and `challenge`. */
export async function deviceProof(
  device: TestDevice,
  challenge: { nonce: string; ts: number },
  claim: DeviceClaim,
): Promise<Record<string, unknown>> {
  const payload = [
    "v3",
    device.id,
    claim.client.id,
    claim.client.mode,
    claim.role,
    claim.scopes.join(","),
    String(challenge.ts),
    claim.token,
    challenge.nonce,
    claim.platform,
    claim.deviceFamily,
  ].join("|");
  return {
    id: device.id,
    publicKey: device.publicKey,
    signature: await device.sign(payload),
    signedAt: challenge.ts,
    nonce: challenge.nonce,
  };
}

/** Opens a socket as `device` and sends a signed `connect`; returns the socket and the connect answer. */
export async function connectDevice(
  gateway: Gateway,
  device: TestDevice,
  options: DeviceConnect = {},
): Promise<{ socket: MemorySocket; response: Frame }> {
  const socket = openMemorySocket(gateway, { remoteAddress: options.remoteAddress ?? "127.0.0.1" });
  const challenge = (await socket.next()).payload as { nonce: string; ts: number };
  socket.send({
    type: "req",
    id: "c",
    method: "connect",
    params: await signedConnectParams(device, challenge, options),
  });
  return { socket, response: await socket.waitFor((f) => f.id === "c") };
}

/** `params` (as `connectParams` builds them) with `device`'s v3 proof over their own claim and `challenge`. */
export async function withDeviceProof(
  device: TestDevice,
  challenge: { nonce: string; ts: number },
  params: Record<string, unknown>,
): Promise<Record<string, unknown>> {
  const client = params.client as { id: string; mode: string; platform?: string; deviceFamily?: string };
  const auth = params.auth as { token?: string; deviceToken?: string } | undefined;
  const claim: DeviceClaim = {
    client,
    role: params.role as string,
    scopes: params.scopes as string[],
    token: auth?.token ?? auth?.deviceToken ?? "",
    platform: (client.platform ?? "").toLowerCase(),
    deviceFamily: (client.deviceFamily ?? "").toLowerCase(),
  };
  return { ...params, device: await deviceProof(device, challenge, claim) };
}

let requests = 0;

/**
 * Opens a socket and answers the challenge with `params` (as `connectParams` builds them) plus `device`'s
 * proof over them; fails the test unless `hello-ok` comes back.
 */
export async function provenClient(
  gateway: Gateway,
  device: TestDevice,
  params: Record<string, unknown>,
  socketOptions: MemorySocketOptions = {},
): Promise<TestClient> {
  const socket = openMemorySocket(gateway, socketOptions);
  const challenge = (await socket.next()).payload as { nonce: string; ts: number };
  socket.send({
    type: "req",
    id: "c",
    method: "connect",
    params: await withDeviceProof(device, challenge, params),
  });
  const response = await socket.waitFor((f) => f.id === "c");
  if (!response.ok) throw new Error(`connect failed: ${JSON.stringify(response.error)}`);
  return {
    socket,
    hello: response.payload as Record<string, unknown>,
    async request(method, reqParams = {}) {
      const id = `d-${++requests}`;
      socket.send({ type: "req", id, method, params: reqParams });
      return await socket.waitFor((f) => f.type === "res" && f.id === id);
    },
  };
}
