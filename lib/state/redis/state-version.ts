/**
 * `stateVersion` counters on Redis: one hash, bumped with HINCRBY, so replicas count once for all.
 *
 * @module
 */
import type { StateVersions, StateVersionStore } from "../state-version.ts";
import { LuaScript, type RedisConnection } from "./connection.ts";

// KEYS: counters. ARGV: the counter to bump. The hash holds bumps; every counter starts at 1.
const BUMP = new LuaScript(`
redis.call('HINCRBY', KEYS[1], ARGV[2], 1)
return redis.call('HMGET', KEYS[1], 'presence', 'health')
`);

/** The counters shared by every replica on one Redis. */
export class RedisStateVersionStore implements StateVersionStore {
  /** The scripts it runs, to load before first use. */
  static readonly scripts: readonly LuaScript[] = [BUMP];
  readonly #key: string;

  /** Keeps the counters under `connection`'s prefix. */
  constructor(private readonly connection: RedisConnection) {
    this.#key = connection.key("state-versions");
  }

  async current(): Promise<StateVersions> {
    return versions(await this.connection.client.hmGet(this.#key, ["presence", "health"]));
  }

  async bump(key: keyof StateVersions): Promise<StateVersions> {
    return versions(await this.connection.eval(BUMP, [this.#key], [key]) as (string | null)[]);
  }
}

function versions([presence, health]: (string | null)[]): StateVersions {
  return { presence: 1 + Number(presence ?? 0), health: 1 + Number(health ?? 0) };
}
