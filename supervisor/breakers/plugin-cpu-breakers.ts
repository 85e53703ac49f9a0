// One CPU breaker per plugin, shared by its instances so that escalation
// (longer cool-downs, then a restart, then quarantine) spans restarts. A
// config reload's new settings apply to the plugin's breaker, whose trips so
// far still count; a plugin removed from the config is forgotten.
import { canonical } from "../config/diff.ts";
import type { CpuBreakerConfig } from "./config.ts";
import { CpuBreaker } from "./cpu-breaker.ts";

export class PluginCpuBreakers {
  readonly #held = new Map<string, { breaker: CpuBreaker; config: string }>();

  /** The plugin's breaker, under `config` from now on. */
  of(plugin: string, config: CpuBreakerConfig): CpuBreaker {
    const held = this.#held.get(plugin);
    if (!held) {
      const breaker = new CpuBreaker(config);
      this.#held.set(plugin, { breaker, config: canonical(config) });
      return breaker;
    }
    if (held.config !== canonical(config)) {
      held.breaker.reconfigure(config);
      held.config = canonical(config);
    }
    return held.breaker;
  }

  forget(plugin: string): void {
    this.#held.delete(plugin);
  }
}
