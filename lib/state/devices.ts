/**
 * Paired devices and the device tokens issued to them.
 *
 * @module
 */

/** A device the owner approved (or that auto-paired over direct loopback). */
export interface PairedDevice {
  deviceId: string;
  publicKey: string;
  role: string;
  scopes: string[];
  /** Bearer token the device may present in `auth.token` instead of the shared secret. */
  token: string;
  approvedAt: number;
}

/** Where pairings live; in-process by default. */
export interface DeviceStore {
  get(deviceId: string): PairedDevice | undefined;
  byToken(token: string): PairedDevice | undefined;
  save(device: PairedDevice): void;
  list(): PairedDevice[];
}

/** The in-process device store. */
export class MemoryDeviceStore implements DeviceStore {
  #byId = new Map<string, PairedDevice>();

  get(deviceId: string): PairedDevice | undefined {
    return this.#byId.get(deviceId.toLowerCase());
  }

  byToken(token: string): PairedDevice | undefined {
    for (const device of this.#byId.values()) if (device.token === token) return device;
    return undefined;
  }

  save(device: PairedDevice): void {
    this.#byId.set(device.deviceId.toLowerCase(), device);
  }

  list(): PairedDevice[] {
    return [...this.#byId.values()];
  }
}
