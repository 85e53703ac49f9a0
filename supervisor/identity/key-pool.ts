import { generateLeafKey, type KeyPair, type KeySource } from "./keys.ts";

export interface KeyPoolOptions {
  /** Keys kept ready (default 4). */
  size?: number;
  /** Keys generated at once in the background (default 1: leave the thread pool to fs and TLS). */
  concurrency?: number;
  /** Key generator (default: a leaf key, ECDSA P-256). */
  generate?: () => Promise<KeyPair>;
}

/**
 * Pre-generated leaf keys, so issuing a certificate on an instance's start path
 * is mostly signing. Refilling is driven by take() and by completions only:
 * no timers, and once full nothing is pending, so an idle pool never keeps the
 * process alive.
 */
export class KeyPool implements KeySource {
  readonly #size: number;
  readonly #concurrency: number;
  readonly #generate: () => Promise<KeyPair>;
  #ready: KeyPair[] = [];
  #inFlight = 0;
  #closed = false;
  /** The last background generation failed: refill again only when asked (take), never in a loop. */
  #failing = false;
  #drained: (() => void) | undefined;

  constructor(options: KeyPoolOptions = {}) {
    this.#size = options.size ?? 4;
    this.#concurrency = options.concurrency ?? 1;
    this.#generate = options.generate ?? generateLeafKey;
    if (!Number.isInteger(this.#size) || this.#size < 1) throw new Error(`KeyPool size must be a positive integer, got ${this.#size}`);
    if (!Number.isInteger(this.#concurrency) || this.#concurrency < 1) {
      throw new Error(`KeyPool concurrency must be a positive integer, got ${this.#concurrency}`);
    }
    this.#fill();
  }

  /** Keys ready to hand out now. */
  get ready(): number {
    return this.#ready.length;
  }

  /** A ready key if there is one, else a freshly generated one (the pool keeps refilling either way). */
  take(): Promise<KeyPair> {
    const key = this.#ready.shift();
    this.#failing = false;
    this.#fill();
    return key ? Promise.resolve(key) : this.#generate();
  }

  /** Stops refilling and drops ready keys; resolves once no generation is in flight. */
  close(): Promise<void> {
    this.#closed = true;
    this.#ready = [];
    if (this.#inFlight === 0) return Promise.resolve();
    return new Promise((resolve) => {
      const previous = this.#drained;
      this.#drained = () => {
        previous?.();
        resolve();
      };
    });
  }

  #fill(): void {
    while (
      !this.#closed &&
      !this.#failing &&
      this.#inFlight < this.#concurrency &&
      this.#ready.length + this.#inFlight < this.#size
    ) {
      this.#inFlight++;
      this.#generate().then(
        (key) => this.#settled(key),
        () => this.#settled(undefined),
      );
    }
  }

  #settled(key: KeyPair | undefined): void {
    this.#inFlight--;
    if (this.#closed) {
      if (this.#inFlight === 0) {
        const drained = this.#drained;
        this.#drained = undefined;
        drained?.();
      }
      return;
    }
    if (key) this.#ready.push(key);
    else this.#failing = true; // the caller of take() sees the error from its own generation
    this.#fill();
  }
}
