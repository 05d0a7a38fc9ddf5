/**
 * DM pairing: an unknown sender on a `dmPolicy: "pairing"` channel gets a one-time code, and stays
 * unanswered until the owner approves the code (`openclaw pairing approve <channel> <code>`, or
 * `channels.pairing.approve` over WS). Approved senders are kept per channel.
 *
 * Codes, expiry and the pending cap are OpenClaw's: 8 characters from an alphabet without `0O1I`, one
 * hour to live, at most 3 pending requests per channel account. The documents use OpenClaw's legacy file
 * layout under the state dir (`credentials/<channel>-pairing.json`,
 * `credentials/<channel>-<account>-allowFrom.json`), which its `doctor --fix` imports.
 *
 * @module
 */
import type { JsonDocs } from "../state/json-docs.ts";
import { DEFAULT_ACCOUNT_ID } from "./status.ts";

/** Characters a pairing code is made of (no `0`, `O`, `1`, `I`: they are read out and typed by people). */
export const PAIRING_CODE_ALPHABET = "ABCDEFGHJKLMNPQRSTUVWXYZ23456789";
/** Characters in a pairing code: about 40 bits, short enough to type from a phone. */
export const PAIRING_CODE_LENGTH = 8;
/** How long a pending request (and its code) lives. */
export const PAIRING_TTL_MS = 60 * 60 * 1000;
/** Pending requests kept per channel account; further strangers are ignored until one clears. */
export const PAIRING_MAX_PENDING = 3;
/** A repeat message from a pending sender refreshes `lastSeenAt` at most this often (one write, not one per message). */
const LAST_SEEN_RESOLUTION_MS = 60_000;

/** One pending request, in OpenClaw's stored shape. */
export interface PairingRequest {
  /** The sender id. */
  id: string;
  /** The code the owner approves with. */
  code: string;
  /** When the sender first wrote (ISO time); the request expires {@link PAIRING_TTL_MS} later. */
  createdAt: string;
  /** When the sender last wrote (ISO time), refreshed at most once a minute. */
  lastSeenAt: string;
  /** What the channel knows of the sender (name, username), for the owner's list. */
  meta?: Record<string, string>;
}

/** What {@link ChannelPairing.request} did. */
export interface PairingOutcome {
  /** The sender's code; empty when the pending cap refused a new request. */
  code: string;
  /** Whether this call created the request (only then is the code sent to the sender). */
  created: boolean;
}

const requestsPath = (channel: string) => `credentials/${channel}-pairing.json`;
const allowFromPath = (channel: string) => `credentials/${channel}-${DEFAULT_ACCOUNT_ID}-allowFrom.json`;

/**
 * The pairing store of every channel, over {@link JsonDocs}. Every change is a `docs.update`, so two
 * replicas (or the CLI beside a gateway on Redis) lose none of each other's requests and approvals.
 */
export class ChannelPairing {
  /** Keeps the store in `docs`; `now` is the clock expiry is measured with. */
  constructor(private readonly docs: JsonDocs, private readonly now: () => number = Date.now) {}

  /** Sender ids the owner approved on `channel`. */
  async approved(channel: string): Promise<string[]> {
    return allowFromOf(await this.docs.read(allowFromPath(channel)));
  }

  /** Pending, unexpired requests on `channel`, oldest first. */
  pending(channel: string): Promise<PairingRequest[]> {
    return this.#update(channel, (requests) => ({ requests, result: requests }));
  }

  /** Records (or finds) `senderId`'s pending request. */
  request(channel: string, senderId: string, meta: Record<string, string> = {}): Promise<PairingOutcome> {
    return this.#update<PairingOutcome>(channel, (requests) => {
      const at = new Date(this.now()).toISOString();
      const existing = requests.find((r) => r.id === senderId);
      if (existing) {
        const stale = this.now() - Date.parse(existing.lastSeenAt) >= LAST_SEEN_RESOLUTION_MS;
        const next = requests.map((r) => r === existing ? { ...r, lastSeenAt: at } : r);
        return { requests: stale ? next : requests, result: { code: existing.code, created: false } };
      }
      if (requests.length >= PAIRING_MAX_PENDING) return { requests, result: { code: "", created: false } };
      const code = uniqueCode(new Set(requests.map((r) => r.code)));
      const entry: PairingRequest = {
        id: senderId,
        code,
        createdAt: at,
        lastSeenAt: at,
        meta: { ...meta, accountId: DEFAULT_ACCOUNT_ID },
      };
      return { requests: [...requests, entry], result: { code, created: true } };
    });
  }

  /** Approves the request holding `code` (any case); `undefined` when no pending request has it. */
  approveCode(channel: string, code: string): Promise<PairingRequest | undefined> {
    const wanted = code.trim().toUpperCase();
    return this.#resolve(channel, (r) => Promise.resolve(wanted !== "" && r.code === wanted), true);
  }

  /** Approves by the opaque request id `channels.pairing.list` hands out (the code stays private). */
  approveRequest(channel: string, requestId: string): Promise<PairingRequest | undefined> {
    return this.#resolve(channel, async (r) => await pairingRequestId(channel, r) === requestId, true);
  }

  /** Drops a pending request without approving it; the sender may ask again later. */
  dismissRequest(channel: string, requestId: string): Promise<PairingRequest | undefined> {
    return this.#resolve(channel, async (r) => await pairingRequestId(channel, r) === requestId, false);
  }

  async #resolve(
    channel: string,
    matches: (request: PairingRequest) => Promise<boolean>,
    approve: boolean,
  ): Promise<PairingRequest | undefined> {
    const checked = await this.pending(channel);
    const flags = await Promise.all(checked.map(matches));
    const target = checked.find((_, i) => flags[i]);
    if (!target) return undefined;
    if (approve) {
      // Approved before the request is removed: a crash in between leaves a harmless stale request.
      await this.docs.update(allowFromPath(channel), (doc) => {
        const allowFrom = allowFromOf(doc);
        return allowFrom.includes(target.id)
          ? { result: undefined }
          : { value: { version: 1, allowFrom: [...allowFrom, target.id] }, result: undefined };
      });
    }
    return await this.#update(channel, (requests) => {
      const entry = requests.find((r) => r.id === target.id && r.code === target.code);
      return entry
        ? { requests: requests.filter((r) => r !== entry), result: entry }
        : { requests, result: approve ? target : undefined };
    });
  }

  /**
   * Runs `change` on the channel's unexpired requests and writes them back when they changed. `change`
   * may run more than once (when another writer got in first), so it only computes.
   */
  #update<T>(
    channel: string,
    change: (requests: PairingRequest[]) => { requests: PairingRequest[]; result: T },
  ): Promise<T> {
    return this.docs.update(requestsPath(channel), (doc) => {
      const stored = requestsOf(doc);
      const live = stored.filter((r) => this.now() - Date.parse(r.createdAt) <= PAIRING_TTL_MS);
      const { requests, result } = change(live);
      return requests !== live || live.length !== stored.length
        ? { value: { version: 1, requests }, result }
        : { result };
    });
  }
}

/** The sender ids of an allowFrom document. */
function allowFromOf(doc: unknown): string[] {
  const allowFrom = (doc as { allowFrom?: unknown } | undefined)?.allowFrom;
  return Array.isArray(allowFrom) ? allowFrom.filter((v): v is string => typeof v === "string") : [];
}

/** The well-formed requests of a pending-requests document. */
function requestsOf(doc: unknown): PairingRequest[] {
  const requests = (doc as { requests?: unknown } | undefined)?.requests;
  if (!Array.isArray(requests)) return [];
  return requests.filter((r): r is PairingRequest =>
    typeof r?.id === "string" && typeof r.code === "string" && typeof r.createdAt === "string" &&
    !Number.isNaN(Date.parse(r.createdAt))
  ).map((r) => ({ ...r, lastSeenAt: typeof r.lastSeenAt === "string" ? r.lastSeenAt : r.createdAt }));
}

/**
 * The opaque id of a pending request (as OpenClaw derives it): lets a Control UI approve without ever
 * seeing the code the sender holds.
 */
export async function pairingRequestId(channel: string, request: PairingRequest): Promise<string> {
  const material = `${channel}\0${DEFAULT_ACCOUNT_ID}\0${request.id}\0${request.createdAt}`;
  const digest = new Uint8Array(await crypto.subtle.digest("SHA-256", new TextEncoder().encode(material)));
  return btoa(String.fromCharCode(...digest)).replace(/\+/g, "-").replace(/\//g, "_").replace(/=+$/, "")
    .slice(0, 32);
}

/** A fresh code not in `taken`. The alphabet has 32 letters, so `byte & 31` picks one without bias. */
function uniqueCode(taken: ReadonlySet<string>): string {
  for (;;) {
    const bytes = crypto.getRandomValues(new Uint8Array(PAIRING_CODE_LENGTH));
    const code = Array.from(bytes, (b) => PAIRING_CODE_ALPHABET[b & 31]).join("");
    if (!taken.has(code)) return code;
  }
}
