// How fast a sandbox's stdout and stderr are read: a token bucket of bytes
// that both streams draw on. Without it the supervisor read, decoded and
// split everything a plugin wrote, to drop most of it at the line limit: a
// plugin flooding its output cost the supervisor as much CPU as the plugin
// itself used. Over the rate, reading waits; the pipe fills, and the
// plugin's writes wait, as they would for any slow reader of a pipe.
import { setTimeout as sleep } from "node:timers/promises";

export class OutputPace {
  /** Bytes per second; Infinity: not paced. */
  #rate = Infinity;
  #tokens = 0;
  #at = 0;
  #onWait: ((ms: number) => void) | undefined;
  /** Ends the wait in progress, if any. */
  #waiting: AbortController | undefined;
  #released = false;
  readonly #now: () => number;

  constructor(options: { now?: () => number } = {}) {
    this.#now = options.now ?? (() => performance.now());
  }

  /**
   * Paces reading at bytesPerSecond from now on, a second's worth at once;
   * onWait hears of each wait, with its length. No effect once released.
   */
  setRate(bytesPerSecond: number, onWait?: (ms: number) => void): void {
    if (this.#released) return;
    if (!(bytesPerSecond > 0)) throw new Error(`output pace must be positive, got ${bytesPerSecond}`);
    this.#rate = bytesPerSecond;
    this.#tokens = bytesPerSecond;
    this.#at = this.#now();
    this.#onWait = onWait;
  }

  /**
   * No more pacing, and the wait in progress ends: the plugin has exited,
   * and what it left in the pipe is read at once, so that its end is not
   * held up.
   */
  release(): void {
    this.#released = true;
    this.#rate = Infinity;
    this.#waiting?.abort();
  }

  /**
   * Counts `bytes` as read. Undefined if reading may go on at once; else a
   * promise that resolves when it may (never rejects).
   */
  take(bytes: number): Promise<void> | undefined {
    if (this.#rate === Infinity) return undefined;
    const now = this.#now();
    this.#tokens = Math.min(this.#rate, this.#tokens + ((now - this.#at) / 1000) * this.#rate) - bytes;
    this.#at = now;
    if (this.#tokens >= 0) return undefined;
    const ms = Math.ceil((-this.#tokens / this.#rate) * 1000);
    this.#onWait?.(ms);
    const waiting = (this.#waiting = new AbortController());
    return sleep(ms, undefined, { signal: waiting.signal }).catch(() => {}).finally(() => {
      if (this.#waiting === waiting) this.#waiting = undefined;
    });
  }
}
