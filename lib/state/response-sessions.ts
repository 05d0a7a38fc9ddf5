/**
 * Which session a Responses API response ran in, so a later `previous_response_id` continues it on
 * any replica.
 *
 * @module
 */

/**
 * How many of the newest response ids every store keeps for `previous_response_id` (until their TTL); the
 * in-memory store keeps no more, so one process's memory stays bounded, while Redis keeps each for its TTL.
 */
export const REMEMBERED_RESPONSES = 1_000;
/** How long a response id is remembered. */
export const RESPONSE_SESSION_TTL_MS = 24 * 60 * 60_000;

/** The session a response ran in. */
export interface ResponseSession {
  /** The agent that ran the response. */
  agentId: string;
  /** The full session key the response ran in. */
  sessionKey: string;
}

/**
 * Response id → session, kept for an explicit time: at least the newest {@link REMEMBERED_RESPONSES} ids
 * (by when each was last remembered) until their TTL runs out.
 */
export interface ResponseSessionStore {
  /** Remembers `responseId`'s session for `ttlMs` (again: replaces the session and renews the TTL). */
  remember(responseId: string, session: ResponseSession, ttlMs: number): Promise<void>;
  /** The session a response ran in, unless forgotten. */
  get(responseId: string): Promise<ResponseSession | undefined>;
}

/** Response sessions in process memory: the newest {@link REMEMBERED_RESPONSES}, each until its TTL. */
export class MemoryResponseSessionStore implements ResponseSessionStore {
  readonly #sessions = new Map<string, ResponseSession & { expiresAt: number }>();

  /** `now` is the clock TTLs run on; at most `cap` responses are remembered. */
  constructor(
    private readonly now: () => number = () => Date.now(),
    private readonly cap: number = REMEMBERED_RESPONSES,
  ) {}

  remember(responseId: string, session: ResponseSession, ttlMs: number): Promise<void> {
    this.#sessions.delete(responseId);
    this.#sessions.set(responseId, { ...session, expiresAt: this.now() + ttlMs });
    if (this.#sessions.size > this.cap) this.#sessions.delete(this.#sessions.keys().next().value!);
    return Promise.resolve();
  }

  get(responseId: string): Promise<ResponseSession | undefined> {
    const found = this.#sessions.get(responseId);
    if (!found) return Promise.resolve(undefined);
    if (found.expiresAt <= this.now()) {
      this.#sessions.delete(responseId);
      return Promise.resolve(undefined);
    }
    return Promise.resolve({ agentId: found.agentId, sessionKey: found.sessionKey });
  }
}
