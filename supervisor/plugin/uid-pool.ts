// Hands out host uids for instances from the configured range, one per live
// instance, so no two sandboxes share an identity on the host.
export class UidPool {
  readonly #base: number;
  readonly #count: number;
  readonly #inUse = new Set<number>();
  #next = 0;

  constructor(base: number, count: number) {
    this.#base = base;
    this.#count = count;
  }

  allocate(): number {
    for (let i = 0; i < this.#count; i++) {
      const uid = this.#base + ((this.#next + i) % this.#count);
      if (!this.#inUse.has(uid)) {
        this.#inUse.add(uid);
        this.#next = (uid - this.#base + 1) % this.#count;
        return uid;
      }
    }
    throw new Error(`all ${this.#count} sandbox uids from ${this.#base} are in use (sandbox.uidCount)`);
  }

  release(uid: number): void {
    this.#inUse.delete(uid);
  }
}
