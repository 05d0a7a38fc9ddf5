/**
 * Pairings kept in one JSON document (`devices/pairing.json` under the state dir, for a gateway without a
 * shared store), so approvals and device tokens survive a restart as the reference's do. One process owns
 * the document: changes are applied one at a time to an in-memory copy and written through.
 *
 * @module
 */
import {
  type DeviceStore,
  MemoryDeviceStore,
  type PairedDevice,
  type PairingRequestOutcome,
  type PendingPairing,
} from "./devices.ts";
import type { JsonDocs } from "./json-docs.ts";

/** Where the document lives among the JSON documents. */
export const DEVICE_PAIRING_DOC = "devices/pairing.json";

interface PairingDoc {
  paired?: PairedDevice[];
  pending?: PendingPairing[];
}

/** A {@link DeviceStore} written through to a JSON document. */
export class DocsDeviceStore implements DeviceStore {
  readonly #memory = new MemoryDeviceStore();
  #loaded?: Promise<void>;
  #last: Promise<unknown> = Promise.resolve();

  /** Keeps the pairings in `docs`; `now` judges which pending requests are still worth writing. */
  constructor(private readonly docs: JsonDocs, private readonly now: () => number = () => Date.now()) {}

  #load(): Promise<void> {
    return this.#loaded ??= (async () => {
      const doc = (await this.docs.read(DEVICE_PAIRING_DOC) ?? {}) as PairingDoc;
      for (const device of doc.paired ?? []) await this.#memory.save(device);
      // A document written before the limits may hold more requests than they allow: those past a
      // limit are dropped (their devices ask again) rather than failing every pairing read.
      for (const request of doc.pending ?? []) await this.#memory.request(request).catch(() => {});
    })();
  }

  /**
   * Runs `change` after every earlier one and writes the result, unless `changed` says it changed nothing:
   * a device that keeps retrying while its request waits must not rewrite (and fsync) the file each time.
   */
  #change<T>(change: () => Promise<T>, changed: (result: T) => boolean = () => true): Promise<T> {
    const run = this.#last.catch(() => {}).then(async () => {
      await this.#load();
      const result = await change();
      if (!changed(result)) return result;
      const doc: PairingDoc = {
        paired: await this.#memory.list(),
        pending: await this.#memory.listPending(this.now()),
      };
      await this.docs.write(DEVICE_PAIRING_DOC, doc);
      return result;
    });
    this.#last = run;
    return run;
  }

  async #read<T>(read: () => Promise<T>): Promise<T> {
    await this.#load();
    return await read();
  }

  get(deviceId: string): Promise<PairedDevice | undefined> {
    return this.#read(() => this.#memory.get(deviceId));
  }

  byToken(token: string): Promise<PairedDevice | undefined> {
    return this.#read(() => this.#memory.byToken(token));
  }

  save(device: PairedDevice): Promise<void> {
    return this.#change(() => this.#memory.save(device));
  }

  remove(deviceId: string): Promise<PairedDevice | undefined> {
    return this.#change(() => this.#memory.remove(deviceId), (removed) => removed !== undefined);
  }

  list(): Promise<PairedDevice[]> {
    return this.#read(() => this.#memory.list());
  }

  request(request: PendingPairing): Promise<PairingRequestOutcome> {
    return this.#change(
      () => this.#memory.request(request),
      (outcome) => outcome.created || outcome.superseded.length > 0,
    );
  }

  pending(requestId: string, now: number): Promise<PendingPairing | undefined> {
    return this.#read(() => this.#memory.pending(requestId, now));
  }

  listPending(now: number): Promise<PendingPairing[]> {
    return this.#read(() => this.#memory.listPending(now));
  }

  takePending(requestId: string, now: number): Promise<PendingPairing | undefined> {
    return this.#change(() => this.#memory.takePending(requestId, now), (taken) => taken !== undefined);
  }
}
