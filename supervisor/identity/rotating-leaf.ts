// A leaf certificate that renews itself at about half its life (with jitter,
// so leaves issued together do not renew together) and tells its users. It is
// also a grpc-js CertificateProvider, so channels and servers built on it
// switch to the new leaf without being rebuilt and without dropping calls.
import type { experimental } from "@grpc/grpc-js";
import { createSecureContext, type SecureContext } from "node:tls";
import { parsePeerIdentity } from "./identity.ts";
import type { IssuedLeaf } from "./issue.ts";

type CertificateProvider = experimental.CertificateProvider;
type CaListener = experimental.CaCertificateUpdateListener;
type IdentityListener = experimental.IdentityCertificateUpdateListener;

export interface RotatingLeafOptions {
  /** Issues a fresh leaf of the same identity. */
  issue: () => Promise<IssuedLeaf>;
  caPem: string;
  /** Called after each renewal, or with the error when one failed (the old leaf stays). */
  onRotate?: (leaf: IssuedLeaf | Error) => void;
  random?: () => number;
  now?: () => number;
  /** Renew at half life (default true). Off for certificates Corral does not issue, which rotate() re-reads. */
  renew?: boolean;
}

/**
 * The longest a renewal waits before it looks at the wall clock again. Its
 * timer runs on the monotonic clock, which neither a step of the wall
 * clock (NTP, an operator) nor a suspension of the host moves: after either,
 * a leaf could stand expired, or not yet valid, for hours until a single
 * long wait ran out.
 */
export const WALL_CLOCK_CHECK_MS = 60_000;

export class RotatingLeaf implements CertificateProvider {
  readonly #options: RotatingLeafOptions;
  #leaf!: IssuedLeaf; // set by #adopt, from the constructor
  #context: SecureContext | undefined; // of #leaf, built when first asked for
  /** When the current leaf is due for renewal. */
  #renewAt = 0;
  #timer: NodeJS.Timeout | undefined;
  #closed = false;
  readonly #caListeners = new Set<CaListener>();
  readonly #identityListeners = new Set<IdentityListener>();

  private constructor(leaf: IssuedLeaf, options: RotatingLeafOptions) {
    this.#options = options;
    this.#adopt(leaf);
  }

  static async start(options: RotatingLeafOptions): Promise<RotatingLeaf> {
    return new RotatingLeaf(await options.issue(), options);
  }

  get current(): IssuedLeaf {
    return this.#leaf;
  }

  /**
   * A TLS context presenting the current leaf and trusting the CA: built
   * once per leaf, for the connections made with it.
   */
  secureContext(): SecureContext {
    this.#context ??= createSecureContext({ ca: this.#options.caPem, cert: this.#leaf.certPem, key: this.#leaf.keyPem });
    return this.#context;
  }

  /** Renews now. A new leaf that does not carry the same identity is refused and the old one kept. */
  async rotate(): Promise<IssuedLeaf> {
    const next = await this.#options.issue();
    const before = parsePeerIdentity(this.#leaf.certPem).uri;
    const after = parsePeerIdentity(next.certPem).uri;
    if (after !== before) throw new Error(`renewed leaf is for ${after}, not ${before}; keeping the current one`);
    this.#adopt(next);
    for (const listener of this.#identityListeners) listener(this.#identityUpdate());
    return next;
  }

  /** Has the timer renew the leaf now, and each minute after until it is renewed (after a renewal asked for that failed). */
  renewSoon(): void {
    this.#renewAt = this.#now();
    this.#schedule();
  }

  close(): void {
    this.#closed = true;
    clearTimeout(this.#timer);
  }

  /**
   * When the current leaf should be renewed: half its life, ±10 %; at once
   * if the wall clock is now before its notBefore (stepped back past it).
   */
  renewalDelayMs(): number {
    const now = this.#now();
    if (now < this.#leaf.notBefore.getTime()) return 0;
    return Math.max(0, this.#renewAt - now);
  }

  /**
   * Makes `leaf` current and schedules its renewal. Its life counts from now,
   * not from notBefore, which is set back to allow for clock skew.
   */
  #adopt(leaf: IssuedLeaf): void {
    this.#leaf = leaf;
    this.#context = undefined;
    const now = this.#now();
    const life = leaf.notAfter.getTime() - now;
    this.#renewAt = now + life * (0.45 + 0.1 * (this.#options.random ?? Math.random)());
    this.#schedule();
  }

  #now(): number {
    return (this.#options.now ?? Date.now)();
  }

  #schedule(): void {
    clearTimeout(this.#timer);
    if (this.#closed || this.#options.renew === false) return;
    // Taken in steps, each ending with a look at the wall clock.
    const delay = Math.min(this.renewalDelayMs(), WALL_CLOCK_CHECK_MS);
    this.#timer = setTimeout(() => {
      if (this.renewalDelayMs() > 0) return this.#schedule();
      // A renewal that finishes after close() is of a leaf no one uses:
      // its owner, told nothing, has let go of what it would write to.
      this.rotate().then(
        (leaf) => this.#closed || this.#options.onRotate?.(leaf),
        (err: Error) => {
          if (this.#closed) return;
          this.#options.onRotate?.(err);
          // Try again soon, but not in a loop.
          this.#timer = setTimeout(() => this.#schedule(), 60_000).unref();
        },
      );
    }, delay);
    this.#timer.unref();
  }

  #identityUpdate() {
    return { certificate: Buffer.from(this.#leaf.certPem), privateKey: Buffer.from(this.#leaf.keyPem) };
  }

  // grpc-js registers its listeners first and its own watchers after them,
  // expecting the first update later (its file-watching provider reads files
  // first): a synchronous first update would reach nobody. So it is deferred.
  addCaCertificateListener(listener: CaListener): void {
    this.#caListeners.add(listener);
    process.nextTick(() => this.#caListeners.has(listener) && listener({ caCertificate: Buffer.from(this.#options.caPem) }));
  }
  removeCaCertificateListener(listener: CaListener): void {
    this.#caListeners.delete(listener);
  }
  addIdentityCertificateListener(listener: IdentityListener): void {
    this.#identityListeners.add(listener);
    process.nextTick(() => this.#identityListeners.has(listener) && listener(this.#identityUpdate()));
  }
  removeIdentityCertificateListener(listener: IdentityListener): void {
    this.#identityListeners.delete(listener);
  }
}
