// The final call counts of instances that have ended, kept a while for the
// metrics. An instance's corral_calls_total series end with it; without
// this, the calls it served since the last scrape (a hot update's old
// instance serves until it has drained) would never be seen. A drained
// instance answers Control.Drained with its final counts (instance.ts);
// they are exported like a live instance's, under its own instance label,
// for `retainMs`, long enough for a few scrapes. An instance that crashed
// has no final counts: what it served since the last scrape is lost.
import type { MethodCalls__Output } from "../../proto/gen/ts/corral/plugin/v1/MethodCalls.ts";
import { wellFormed, type CallStatsSource } from "./calls.ts";

export interface EndedCallsOptions {
  /** How long an ended instance's counts are exported (default 5 min). */
  retainMs?: number;
  /** At most this many ended instances per plugin, the latest (default 8). */
  perPlugin?: number;
  now?: () => number;
}

interface Ended {
  plugin: string;
  instance: string;
  methods: MethodCalls__Output[];
  at: number;
}

export class EndedInstanceCalls {
  readonly #retainMs: number;
  readonly #perPlugin: number;
  readonly #now: () => number;
  /** Oldest first. */
  #ended: Ended[] = [];

  constructor(options: EndedCallsOptions = {}) {
    this.#retainMs = options.retainMs ?? 5 * 60_000;
    this.#perPlugin = options.perPlugin ?? 8;
    this.#now = options.now ?? Date.now;
  }

  /**
   * Keeps an ended instance's final counts: only what makes sense as series
   * (wellFormed), so that a plugin's answer holds no more memory than a
   * scrape would take of it.
   */
  record(plugin: string, instance: string, methods: MethodCalls__Output[]): void {
    const kept = wellFormed(methods);
    if (kept.length === 0) return;
    this.#expire(); // here too: with no scrape (Prometheus down), they would stay for good
    this.#ended.push({ plugin, instance, methods: kept, at: this.#now() });
    const ofPlugin = this.#ended.filter((e) => e.plugin === plugin);
    const dropped = new Set(ofPlugin.slice(0, Math.max(0, ofPlugin.length - this.#perPlugin)));
    this.#ended = this.#ended.filter((e) => !dropped.has(e));
  }

  /** How many ended instances' counts are held. */
  get retained(): number {
    return this.#ended.length;
  }

  /** The instances retained now, as sources that answer with their final counts. */
  sources(): CallStatsSource[] {
    this.#expire();
    return this.#ended.map(({ plugin, instance, methods }) => ({ plugin, instance, callStats: async () => ({ methods }) }));
  }

  /** Drops what is older than retainMs: at each record and each scrape, so no timer to own. */
  #expire(): void {
    const since = this.#now() - this.#retainMs;
    this.#ended = this.#ended.filter((e) => e.at > since);
  }
}
