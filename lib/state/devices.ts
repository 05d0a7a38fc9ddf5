/**
 * Paired devices, the per-role device tokens issued to them, and the pairing requests that wait for an
 * operator (the reference's record shapes, so `device.pair.list` can hand them out as they are).
 *
 * @module
 */
import { addressBucket } from "../net/address-bucket.ts";
import { checkPendingLimits, type PendingLimits, type PendingSlot } from "./pending-limits.ts";

/** A bearer token issued to one role of a paired device. */
export interface DeviceAuthToken {
  /** The secret the device presents in `auth.token`. */
  token: string;
  /** The role it authenticates as. */
  role: string;
  /** The scopes it carries. */
  scopes: string[];
  /** When the role's first token was issued (ms since the epoch). */
  createdAtMs: number;
  /** When it was last replaced by `device.token.rotate`. */
  rotatedAtMs?: number;
  /** When it was revoked; a revoked token authenticates nothing. */
  revokedAtMs?: number;
}

/** What a client said about itself (and where it came from) when it asked to be paired. */
export interface PairingClientFacts {
  /** The name it gave itself. */
  displayName?: string;
  /** Its OS or runtime. */
  platform?: string;
  /** Its device family (`Desktop`, `iPhone`, ...). */
  deviceFamily?: string;
  /** Its `client.id`. */
  clientId?: string;
  /** Its `client.mode`. */
  clientMode?: string;
  /** The client address the gateway attributed it to. */
  remoteIp?: string;
}

/** What a node declared it can do (`caps`, `commands`) and says about itself, as of one connect. */
export interface NodeSurfaceFacts {
  /** The node's name for itself. */
  displayName?: string;
  /** Its app version. */
  version?: string;
  /** Its hardware model. */
  modelIdentifier?: string;
  /** Capabilities it declared. */
  caps?: string[];
  /** Commands it declared (`node.invoke` targets). */
  commands?: string[];
}

/** The node surface an operator approved (`node.pair.approve`): commands beyond it stay filtered. */
export interface NodeSurface extends NodeSurfaceFacts {
  /** When it was first approved. */
  createdAtMs: number;
  /** When its latest widening was approved. */
  approvedAtMs: number;
}

/** A node surface waiting for approval (one per device; a changed surface replaces it). */
export interface PendingNodeSurface extends NodeSurfaceFacts {
  /** What an operator approves or rejects it by. */
  requestId: string;
  /** The `client.id` of the connect that declared it. */
  clientId?: string;
  /** The `client.mode` of that connect. */
  clientMode?: string;
  /** The node's OS or runtime. */
  platform?: string;
  /** The node's device family. */
  deviceFamily?: string;
  /** Where the node connected from. */
  remoteIp?: string;
  /** When it was declared. */
  ts: number;
}

/** A device the owner approved (or that auto-paired over direct loopback). */
export interface PairedDevice extends PairingClientFacts {
  /** The SHA-256 fingerprint (hex, lower case) of the device's public key. */
  deviceId: string;
  /** The device's raw Ed25519 public key, base64url. */
  publicKey: string;
  /** The first role approved. */
  role: string;
  /** Every role approved. */
  roles: string[];
  /** The scopes approved; a connect may ask for fewer. */
  scopes: string[];
  /** Tokens by role. */
  tokens: Record<string, DeviceAuthToken>;
  /** How the latest approval was granted: by an operator, or silently for a local client. */
  approvedVia?: "owner" | "silent";
  /** For a `node`: the command surface an operator approved. */
  nodeSurface?: NodeSurface;
  /** For a `node`: a declared surface beyond the approved one, waiting for `node.pair.approve`. */
  pendingNodeSurface?: PendingNodeSurface;
  /** When it was first paired (ms since the epoch). */
  createdAtMs: number;
  /** When its latest approval was granted. */
  approvedAtMs: number;
}

/** A pairing (or role/scope upgrade) request waiting for an operator. */
export interface PendingPairing extends PairingClientFacts {
  /** What an operator approves or rejects it by. */
  requestId: string;
  /** The device asking. */
  deviceId: string;
  /** Its public key (a different key than the paired one is a new pairing). */
  publicKey: string;
  /** The role it asks for. */
  role: string;
  /** The scopes it asks for. */
  scopes: string[];
  /** The roles it asks for (the reference lists `role` here too). */
  roles?: string[];
  /** Approved without an operator (never, for a request that waits). */
  silent?: boolean;
  /** The device is already paired; this asks for more. */
  isRepair?: boolean;
  /** When it was made (ms since the epoch). */
  ts: number;
}

/** What recording a request did. */
export interface PairingRequestOutcome {
  /** The request now pending: the new one, or the identical one already waiting. */
  request: PendingPairing;
  /** False when an identical request was already waiting (no new event is due). */
  created: boolean;
  /** Earlier requests of the same device this one replaced. */
  superseded: PendingPairing[];
  /**
   * Another device's request this one took the place of on a full gateway (the oldest of the client
   * address holding the most, pending-limits.ts): it ended unanswered, as if it expired.
   */
  evicted: PendingPairing[];
}

/** Pending device pairing requests expire five minutes after they were made, as the reference's do. */
export const PENDING_PAIRING_TTL_MS = 5 * 60_000;

/**
 * How many requests of distinct devices may wait from one client address. The reference sets no limit; a
 * holder of the shared secret with a fresh key per connect would otherwise add one per connect. Eight, as
 * the reference allows eight pending connect challenges per client, leaves room for a household behind
 * one NAT address pairing at once.
 */
export const MAX_PENDING_PAIRINGS_PER_ADDRESS = 8;

/** How many requests may wait in all (the reference's limit on pending auth connections, 128). */
export const MAX_PENDING_PAIRINGS = 128;

/**
 * The caps on waiting pairing requests (see pending-limits.ts for how a full gateway makes room). A device
 * asking again always gets through, since its new request replaces its waiting one.
 */
export const PAIRING_LIMITS: PendingLimits = {
  perBucket: MAX_PENDING_PAIRINGS_PER_ADDRESS,
  total: MAX_PENDING_PAIRINGS,
  code: "PAIRING_REQUESTS_LIMITED",
  what: "device pairing requests",
  remedy: "approve or reject them (openclaw devices list) or retry once they expire",
};

/** The client address bucket a pairing request counts against. */
export function pairingBucket(request: PendingPairing): string {
  return addressBucket(request.remoteIp ?? "");
}

/** A pending pairing request as the caps see it. */
function pairingSlot(request: PendingPairing): PendingSlot {
  return {
    id: request.requestId,
    bucket: pairingBucket(request),
    expiresAtMs: request.ts + PENDING_PAIRING_TTL_MS,
  };
}

/** Whether two requests of one device ask for the same thing (the second then reuses the first). */
export function samePairingAsk(a: PendingPairing, b: PendingPairing): boolean {
  return a.publicKey === b.publicKey && a.role === b.role && a.scopes.join(",") === b.scopes.join(",");
}

/** The live (unrevoked) tokens of a device. */
export function liveTokens(device: PairedDevice): string[] {
  return Object.values(device.tokens).filter((t) => !t.revokedAtMs).map((t) => t.token);
}

/**
 * Where pairings and pending requests live; in-process by default, shared across replicas by a network
 * store. Device ids are case-insensitive; a role holds one token at a time.
 */
export interface DeviceStore {
  /** The pairing of `deviceId`, if any. */
  get(deviceId: string): Promise<PairedDevice | undefined>;
  /** The device one of whose unrevoked tokens is `token`, if any. */
  byToken(token: string): Promise<PairedDevice | undefined>;
  /** Adds or replaces a pairing; tokens it no longer holds (or holds revoked) stop working. */
  save(device: PairedDevice): Promise<void>;
  /** Deletes a pairing, its tokens and its pending requests; returns what was removed. */
  remove(deviceId: string): Promise<PairedDevice | undefined>;
  /** Every pairing, in the order they were first saved. */
  list(): Promise<PairedDevice[]>;
  /**
   * Records a request made at `request.ts`: an identical live request of the device is reused, any other
   * request of the device is superseded, expired ones are dropped. {@link PAIRING_LIMITS} apply (by
   * {@link pairingBucket}): a refusal throws their error and changes nothing; on a full gateway the request
   * may supersede another device's instead.
   */
  request(request: PendingPairing): Promise<PairingRequestOutcome>;
  /** The live request `requestId`, if any, as of `now`. */
  pending(requestId: string, now: number): Promise<PendingPairing | undefined>;
  /** Every live request as of `now`, oldest first. */
  listPending(now: number): Promise<PendingPairing[]>;
  /** Removes and returns the live request `requestId`: of two concurrent takers only one gets it. */
  takePending(requestId: string, now: number): Promise<PendingPairing | undefined>;
}

const live = (request: PendingPairing | undefined, now: number) =>
  request && now - request.ts < PENDING_PAIRING_TTL_MS ? request : undefined;

function deepFreeze<T>(value: T): T {
  if (typeof value === "object" && value !== null) Object.values(value).forEach(deepFreeze);
  return Object.freeze(value);
}

function frozenCopy<T>(value: T): T {
  return deepFreeze(structuredClone(value));
}

/** The in-process device store. Records are stored and handed out frozen, never as the caller's objects. */
export class MemoryDeviceStore implements DeviceStore {
  #byId = new Map<string, Readonly<PairedDevice>>();
  /** Token → device id, so a bearer check is one lookup instead of a scan. */
  #idByToken = new Map<string, string>();
  #pending = new Map<string, Readonly<PendingPairing>>();

  get(deviceId: string): Promise<PairedDevice | undefined> {
    return Promise.resolve(this.#byId.get(deviceId.toLowerCase()));
  }

  byToken(token: string): Promise<PairedDevice | undefined> {
    const id = this.#idByToken.get(token);
    return Promise.resolve(id === undefined ? undefined : this.#byId.get(id));
  }

  save(device: PairedDevice): Promise<void> {
    const id = device.deviceId.toLowerCase();
    this.#forgetTokens(id);
    this.#byId.set(id, frozenCopy(device));
    for (const token of liveTokens(device)) this.#idByToken.set(token, id);
    return Promise.resolve();
  }

  remove(deviceId: string): Promise<PairedDevice | undefined> {
    const id = deviceId.toLowerCase();
    const removed = this.#byId.get(id);
    this.#forgetTokens(id);
    this.#byId.delete(id);
    for (const [requestId, request] of this.#pending) {
      if (request.deviceId === id) this.#pending.delete(requestId);
    }
    return Promise.resolve(removed);
  }

  #forgetTokens(id: string): void {
    const previous = this.#byId.get(id);
    for (const token of previous ? liveTokens(previous) : []) {
      if (this.#idByToken.get(token) === id) this.#idByToken.delete(token);
    }
  }

  list(): Promise<PairedDevice[]> {
    return Promise.resolve([...this.#byId.values()]);
  }

  request(request: PendingPairing): Promise<PairingRequestOutcome> {
    for (const [requestId, other] of this.#pending) {
      if (!live(other, request.ts)) this.#pending.delete(requestId);
    }
    const waiting = [...this.#pending.values()];
    const mine = waiting.filter((other) => other.deviceId === request.deviceId);
    const same = mine.find((other) => samePairingAsk(other, request));
    if (same) return Promise.resolve({ request: same, created: false, superseded: [], evicted: [] });
    let evicted: string | undefined;
    try {
      const others = waiting.filter((other) => other.deviceId !== request.deviceId).map(pairingSlot);
      evicted = checkPendingLimits(PAIRING_LIMITS, pairingBucket(request), others, request.ts);
    } catch (error) {
      return Promise.reject(error);
    }
    const pushedOut = evicted === undefined ? [] : [this.#pending.get(evicted)!];
    for (const other of [...mine, ...pushedOut]) this.#pending.delete(other.requestId);
    const stored = frozenCopy(request);
    this.#pending.set(request.requestId, stored);
    return Promise.resolve({ request: stored, created: true, superseded: mine, evicted: pushedOut });
  }

  pending(requestId: string, now: number): Promise<PendingPairing | undefined> {
    return Promise.resolve(live(this.#pending.get(requestId), now));
  }

  listPending(now: number): Promise<PendingPairing[]> {
    const waiting = [...this.#pending.values()].filter((r) => live(r, now));
    return Promise.resolve(waiting.sort((a, b) => a.ts - b.ts));
  }

  takePending(requestId: string, now: number): Promise<PendingPairing | undefined> {
    const request = this.#pending.get(requestId);
    this.#pending.delete(requestId);
    return Promise.resolve(live(request, now));
  }
}

/** The scopes a role's token carries: the operator scopes for `operator`, the others for other roles. */
export function roleTokenScopes(role: string, scopes: readonly string[]): string[] {
  return scopes.filter((scope) => scope.startsWith("operator.") === (role === "operator"));
}

/** How {@link approvedPairing} grants: the token a newly approved role gets, the time, and who approved. */
export interface PairingGrant {
  newToken: string;
  now: number;
  via: "owner" | "silent";
}

/**
 * The pairing after approving `request`: roles and scopes widen to include what it asked for, the role's
 * live token is kept (its scopes updated) or a new one issued. A different public key starts over.
 */
export function approvedPairing(
  existing: PairedDevice | undefined,
  request: PendingPairing,
  grant: PairingGrant,
): PairedDevice {
  const base = existing?.publicKey === request.publicKey ? existing : undefined;
  const roles = [...new Set([...(base?.roles ?? []), request.role])];
  const scopes = [...new Set([...(base?.scopes ?? []), ...request.scopes])].sort();
  const previous = base?.tokens[request.role];
  const kept = previous && !previous.revokedAtMs ? previous : undefined;
  const token: DeviceAuthToken = {
    token: kept?.token ?? grant.newToken,
    role: request.role,
    scopes: roleTokenScopes(request.role, scopes),
    createdAtMs: kept?.createdAtMs ?? grant.now,
    ...(kept?.rotatedAtMs ? { rotatedAtMs: kept.rotatedAtMs } : {}),
  };
  const metadata = Object.fromEntries(
    (["displayName", "platform", "deviceFamily", "clientId", "clientMode", "remoteIp"] as const)
      .flatMap((key) => request[key] ? [[key, request[key]]] : []),
  );
  return {
    ...base,
    ...metadata,
    deviceId: request.deviceId.toLowerCase(),
    publicKey: request.publicKey,
    role: base?.role ?? request.role,
    roles,
    scopes,
    tokens: { ...base?.tokens, [request.role]: token },
    approvedVia: grant.via,
    createdAtMs: base?.createdAtMs ?? grant.now,
    approvedAtMs: grant.now,
  };
}
