/**
 * Paired devices and the device tokens issued to them.
 *
 * @module
 */

/** A device the owner approved (or that auto-paired over direct loopback). */
export interface PairedDevice {
  /** The SHA-256 fingerprint (hex) of the device's public key. */
  deviceId: string;
  /** The device's raw Ed25519 public key, base64url. */
  publicKey: string;
  /** The role the device was approved for. */
  role: string;
  /** The scopes the device was approved for; it may ask for fewer. */
  scopes: string[];
  /** Bearer token the device may present in `auth.token` instead of the shared secret. */
  token: string;
  /** When the pairing was approved (ms since the epoch). */
  approvedAt: number;
}

/**
 * Where pairings live; in-process by default, shared across replicas by a network store. Device ids are
 * case-insensitive; a device holds one token at a time.
 */
export interface DeviceStore {
  /** The pairing of `deviceId`, if any. */
  get(deviceId: string): Promise<PairedDevice | undefined>;
  /** The device `token` was issued to, if it is still that device's token. */
  byToken(token: string): Promise<PairedDevice | undefined>;
  /** Adds or replaces a pairing; a replaced token stops working. */
  save(device: PairedDevice): Promise<void>;
  /** Every pairing, in the order they were first saved. */
  list(): Promise<PairedDevice[]>;
}

/** The in-process device store. Pairings are stored and handed out frozen, never as the caller's objects. */
export class MemoryDeviceStore implements DeviceStore {
  #byId = new Map<string, Readonly<PairedDevice>>();
  /** Token → device id, so a bearer check is one lookup instead of a scan. */
  #idByToken = new Map<string, string>();

  get(deviceId: string): Promise<PairedDevice | undefined> {
    return Promise.resolve(this.#byId.get(deviceId.toLowerCase()));
  }

  byToken(token: string): Promise<PairedDevice | undefined> {
    const id = this.#idByToken.get(token);
    return Promise.resolve(id === undefined ? undefined : this.#byId.get(id));
  }

  save(device: PairedDevice): Promise<void> {
    const id = device.deviceId.toLowerCase();
    const previous = this.#byId.get(id);
    if (previous && previous.token !== device.token && this.#idByToken.get(previous.token) === id) {
      this.#idByToken.delete(previous.token);
    }
    this.#byId.set(id, Object.freeze({ ...device, scopes: Object.freeze([...device.scopes]) as string[] }));
    this.#idByToken.set(device.token, id);
    return Promise.resolve();
  }

  list(): Promise<PairedDevice[]> {
    return Promise.resolve([...this.#byId.values()]);
  }
}
