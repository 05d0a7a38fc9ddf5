/**
 * `previous_response_id` → session on Redis: one key per response under its PX TTL.
 *
 * @module
 */
import type { ResponseSession, ResponseSessionStore } from "../response-sessions.ts";
import type { RedisConnection } from "./connection.ts";

/** Response sessions shared by every replica on one Redis. */
export class RedisResponseSessionStore implements ResponseSessionStore {
  /** Keeps the response ids under `connection`'s prefix. */
  constructor(private readonly connection: RedisConnection) {}

  async remember(responseId: string, session: ResponseSession, ttlMs: number): Promise<void> {
    const value = JSON.stringify({ agentId: session.agentId, sessionKey: session.sessionKey });
    await this.connection.client.set(this.#key(responseId), value, {
      expiration: { type: "PX", value: ttlMs },
    });
  }

  async get(responseId: string): Promise<ResponseSession | undefined> {
    const found = await this.connection.client.get(this.#key(responseId));
    return found ? JSON.parse(found) : undefined;
  }

  #key(responseId: string): string {
    return this.connection.key(`response:${responseId}`);
  }
}
