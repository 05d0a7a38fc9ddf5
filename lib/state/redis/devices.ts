/**
 * Pairings on Redis: devices by id and by token in two hashes, first-save order in a list; a save swaps
 * the token in one script, so a replaced token stops working on every replica at once.
 *
 * @module
 */
import type { DeviceStore, PairedDevice } from "../devices.ts";
import { LuaScript, type RedisConnection } from "./connection.ts";

// KEYS: byId, byToken, order. ARGV: id, token, device.
const SAVE = new LuaScript(`
local previous = redis.call('HGET', KEYS[1], ARGV[2])
if previous then
  local old = cjson.decode(previous).token
  if old ~= ARGV[3] and redis.call('HGET', KEYS[2], old) == ARGV[2] then redis.call('HDEL', KEYS[2], old) end
else
  redis.call('RPUSH', KEYS[3], ARGV[2])
end
redis.call('HSET', KEYS[1], ARGV[2], ARGV[4])
redis.call('HSET', KEYS[2], ARGV[3], ARGV[2])
return 0
`);

// KEYS: byId, byToken. ARGV: token.
const BY_TOKEN = new LuaScript(`
local id = redis.call('HGET', KEYS[2], ARGV[2])
if not id then return nil end
return redis.call('HGET', KEYS[1], id)
`);

// KEYS: byId, order.
const LIST = new LuaScript(`
local devices = {}
for _, id in ipairs(redis.call('LRANGE', KEYS[2], 0, -1)) do
  local device = redis.call('HGET', KEYS[1], id)
  if device then table.insert(devices, device) end
end
return devices
`);

/** Pairings shared by every replica on one Redis. */
export class RedisDeviceStore implements DeviceStore {
  /** The scripts it runs, to load before first use. */
  static readonly scripts: readonly LuaScript[] = [SAVE, BY_TOKEN, LIST];
  readonly #byId: string;
  readonly #byToken: string;
  readonly #order: string;

  /** Keeps its pairings under `connection`'s prefix. */
  constructor(private readonly connection: RedisConnection) {
    this.#byId = connection.key("devices:by-id");
    this.#byToken = connection.key("devices:by-token");
    this.#order = connection.key("devices:order");
  }

  async get(deviceId: string): Promise<PairedDevice | undefined> {
    const found = await this.connection.client.hGet(this.#byId, deviceId.toLowerCase());
    return found ? JSON.parse(found) : undefined;
  }

  async byToken(token: string): Promise<PairedDevice | undefined> {
    const found = await this.connection.eval(BY_TOKEN, [this.#byId, this.#byToken], [token]);
    const device = found ? JSON.parse(found as string) as PairedDevice : undefined;
    return device?.token === token ? device : undefined;
  }

  async save(device: PairedDevice): Promise<void> {
    const keys = [this.#byId, this.#byToken, this.#order];
    await this.connection.eval(SAVE, keys, [
      device.deviceId.toLowerCase(),
      device.token,
      JSON.stringify(device),
    ]);
  }

  async list(): Promise<PairedDevice[]> {
    const devices = await this.connection.eval(LIST, [this.#byId, this.#order], []);
    return (devices as string[]).map((device) => JSON.parse(device));
  }
}
