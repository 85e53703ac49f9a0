// Hands out host uids for instances from the configured range, one per live
// instance, so no two sandboxes share an identity on the host.
import type { UidLocks } from "./uid-locks.ts";

export class UidPool {
  readonly #base: number;
  readonly #count: number;
  readonly #locks: UidLocks | undefined;
  readonly #inUse = new Set<number>();
  #next = 0;

  /**
   * With `locks`, a uid is handed out only if its lock could be taken: one
   * that a `corral sandbox` run (or another owner) holds is passed over.
   */
  constructor(base: number, count: number, locks?: UidLocks) {
    this.#base = base;
    this.#count = count;
    this.#locks = locks;
  }

  allocate(): number {
    for (let i = 0; i < this.#count; i++) {
      const uid = this.#base + ((this.#next + i) % this.#count);
      if (this.#inUse.has(uid) || (this.#locks && !this.#locks.take(uid))) continue;
      this.#inUse.add(uid);
      this.#next = (uid - this.#base + 1) % this.#count;
      return uid;
    }
    throw new Error(`all ${this.#count} sandbox uids from ${this.#base} are in use (sandbox.uidCount)`);
  }

  /** Keeps `uid` from being handed out from now on (a process of a dead instance may still run as it). */
  withhold(uid: number): void {
    if (uid < this.#base || uid >= this.#base + this.#count) return;
    this.#inUse.add(uid);
    this.#locks?.take(uid);
  }

  release(uid: number): void {
    if (this.#inUse.delete(uid)) this.#locks?.give(uid);
  }
}
