// What to do after a crash: wait (exponential backoff with jitter) and retry,
// or quarantine a plugin that keeps crashing. Pure: time comes in as numbers.
import type { RestartPolicy } from "../config/schema.ts";

export type CrashDecision = { action: "retry"; delayMs: number } | { action: "quarantine"; reason: string };

export class CrashPolicy {
  #policy: RestartPolicy;
  readonly #random: () => number;
  #crashTimes: number[] = [];
  #attempt = 0;

  constructor(policy: RestartPolicy, random: () => number = Math.random) {
    this.#policy = policy;
    this.#random = random;
  }

  /** Applies a reloaded policy; the crash history is kept. */
  reconfigure(policy: RestartPolicy): void {
    this.#policy = policy;
  }

  /** Records a crash at `now` and decides what follows. */
  onCrash(now: number): CrashDecision {
    const window = this.#policy.quarantineWindow;
    this.#crashTimes = [...this.#crashTimes.filter((t) => now - t < window), now];
    if (this.#crashTimes.length >= this.#policy.quarantineAfter) {
      return {
        action: "quarantine",
        reason: `crashed ${this.#crashTimes.length} times within ${window} ms (quarantineAfter: ${this.#policy.quarantineAfter})`,
      };
    }
    const delayMs = this.backoff(this.#attempt);
    this.#attempt += 1;
    return { action: "retry", delayMs };
  }

  /** Called when an instance has been ready for `readyForMs`: long enough, and the next crash starts over. */
  onStable(readyForMs: number): void {
    if (readyForMs >= this.#policy.resetAfter) this.#attempt = 0;
  }

  /** An operator's start clears the history: quarantine is lifted by a person, not by time. */
  reset(): void {
    this.#crashTimes = [];
    this.#attempt = 0;
  }

  /**
   * Delay before retry number `attempt` (0-based): initial × multiplier^attempt,
   * capped, with ±20 % jitter so plugins that crashed together do not restart
   * in lockstep. Never above the cap, and never below the initial backoff,
   * which wins over a cap below it: a cap of 0 once restarted a crashing
   * plugin in a tight loop.
   */
  backoff(attempt: number): number {
    const { initialBackoff, maxBackoff, multiplier } = this.#policy;
    const base = Math.min(maxBackoff, initialBackoff * multiplier ** attempt);
    const jittered = base * (0.8 + 0.4 * this.#random());
    return Math.round(Math.max(initialBackoff, Math.min(maxBackoff, jittered)));
  }
}
