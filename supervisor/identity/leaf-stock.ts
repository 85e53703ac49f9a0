// One plugin leaf issued ahead for each plugin's next instance, so that a
// start (a restart after a crash, a hot update, an operator's start) does
// not wait for a key pair and a CA signature: on a small host those are a
// few milliseconds of CPU in the middle of the start, where everything else
// of it waits.
//
// A leaf is stocked a moment after one is taken, once the start that took
// it has had the CPU. A stocked leaf is handed out only while it is still
// fresh (a tenth of its lifetime, at most an hour: rotation is counted from
// its issue) and neither its serial nor its identity has been revoked since;
// otherwise a new one is issued on the spot, exactly as without the stock,
// which is also where a revoked identity is refused.
import type { IssuedLeaf } from "./issue.ts";

export interface LeafStockOptions {
  issue(plugin: string, ttlMs: number): Promise<IssuedLeaf>;
  /** Throws if the leaf must no longer be handed out (its serial or identity revoked). */
  check(leaf: IssuedLeaf): void;
  /** How long after a take the next leaf is issued. */
  refillDelayMs?: number;
  now?: () => number;
}

interface Stocked {
  ttlMs: number;
  issuedAt: number;
  leaf: Promise<IssuedLeaf | undefined>;
}

const DEFAULT_REFILL_DELAY_MS = 250;
const MAX_AGE_MS = 3600_000;

export class LeafStock {
  readonly #options: LeafStockOptions;
  readonly #stock = new Map<string, Stocked>();
  readonly #refills = new Map<string, NodeJS.Timeout>();
  #closed = false;

  constructor(options: LeafStockOptions) {
    this.#options = options;
  }

  /** A leaf for `plugin`'s next instance: the stocked one if it is still good, else a new one. */
  async take(plugin: string, ttlMs: number): Promise<IssuedLeaf> {
    const stocked = this.#stock.get(plugin);
    this.#stock.delete(plugin);
    this.#refillLater(plugin, ttlMs);
    // Its age by the wall clock: negative when the clock was stepped back
    // since, which may leave the leaf not yet valid.
    const age = stocked ? this.#now() - stocked.issuedAt : -1;
    if (stocked && stocked.ttlMs === ttlMs && age >= 0 && age < Math.min(ttlMs / 10, MAX_AGE_MS)) {
      const leaf = await stocked.leaf;
      if (leaf && this.#stillGood(leaf)) return leaf;
    }
    return this.#options.issue(plugin, ttlMs);
  }

  /** Whether a leaf for `plugin` is stocked (issued or being issued). */
  has(plugin: string): boolean {
    return this.#stock.has(plugin);
  }

  /** Drops what is stocked for `plugin` (removed from the config) and its pending refill. */
  forget(plugin: string): void {
    this.#stock.delete(plugin);
    clearTimeout(this.#refills.get(plugin));
    this.#refills.delete(plugin);
  }

  close(): void {
    this.#closed = true;
    for (const timer of this.#refills.values()) clearTimeout(timer);
    this.#refills.clear();
    this.#stock.clear();
  }

  #refillLater(plugin: string, ttlMs: number): void {
    if (this.#closed) return;
    clearTimeout(this.#refills.get(plugin));
    const timer = setTimeout(() => {
      this.#refills.delete(plugin);
      if (this.#closed || this.#stock.has(plugin)) return;
      const leaf = this.#options.issue(plugin, ttlMs).catch(() => undefined); // a take then issues, and reports why
      this.#stock.set(plugin, { ttlMs, issuedAt: this.#now(), leaf });
    }, this.#options.refillDelayMs ?? DEFAULT_REFILL_DELAY_MS);
    timer.unref();
    this.#refills.set(plugin, timer);
  }

  #stillGood(leaf: IssuedLeaf): boolean {
    try {
      this.#options.check(leaf);
      return true;
    } catch {
      return false;
    }
  }

  #now(): number {
    return (this.#options.now ?? Date.now)();
  }
}
