// Everything the supervisor trusts and proves, in one owner: the CA, the
// record of issued and revoked certificates, the supervisor's own renewing
// leaf and the CRL. Revocation is published as a CRL, which each instance
// writes into its directory and has go-shim load (PluginInstance.takeCrl),
// and enforced on the supervisor's side at once.
import { experimental } from "@grpc/grpc-js";
import { readFile } from "node:fs/promises";
import { replaceAtomically } from "./identity/files.ts";
import {
  checkOperatorCertificate,
  IdentityError,
  issuePluginLeaf,
  issueSupervisorLeaf,
  loadOrCreateCA,
  openRegistry,
  parsePeerIdentity,
  type CertificateAuthority,
  type CertificateRegistry,
  type IssuedLeaf,
} from "./identity/index.ts";
import { LeafStock } from "./identity/leaf-stock.ts";
import { RotatingLeaf } from "./identity/rotating-leaf.ts";
import type { Logger } from "./log.ts";
import { controlCredentials, type ControlCredentials } from "./plugin/control-credentials.ts";

/** A CRL as published: the PEM, and its cRLNumber in decimal. */
export interface PublishedCrl {
  pem: string;
  number: string;
}

/** Lifetime of the supervisor's own leaf (its Control-channel client and admin server identity). */
const SUPERVISOR_LEAF_TTL_MS = 24 * 3600 * 1000;
/** The CRL is republished well before its nextUpdate (7 days). */
const CRL_REPUBLISH_MS = 24 * 3600 * 1000;

const DAY_MS = 24 * 3600 * 1000;
/** How many days before the CA's end the supervisor warns at every start. */
const CA_WARN_DAYS = 90;

export interface TrustOptions {
  /**
   * Where host applications read the CRL (`<runtimeDir>/crl.pem`, 0644):
   * the state directory's copy is out of their reach. Replaced with every
   * publication.
   */
  publishedCrl?: string;
}

export class Trust {
  readonly ca: CertificateAuthority;
  readonly registry: CertificateRegistry;
  readonly leaf: RotatingLeaf;
  readonly #log: Logger;
  #crlPem: string;
  readonly #republish: NodeJS.Timeout;
  readonly #leaves: LeafStock;
  readonly #publishedCrl: string | undefined;
  /** The last copy to publishedCrl, so that copies land in order. */
  #copied: Promise<void> = Promise.resolve();

  private constructor(ca: CertificateAuthority, registry: CertificateRegistry, leaf: RotatingLeaf, crlPem: string, log: Logger, options: TrustOptions) {
    this.ca = ca;
    this.#publishedCrl = options.publishedCrl;
    this.registry = registry;
    this.leaf = leaf;
    this.#crlPem = crlPem;
    this.#log = log;
    // Daily: the CRL before its nextUpdate, and the records of leaves long expired forgotten.
    this.#republish = setInterval(() => {
      void this.publishCrl().catch((err: Error) => log.error({ err: err.message }, "republishing the CRL failed"));
      void registry.forgetExpired().catch((err: Error) => log.error({ err: err.message }, "forgetting expired certificates failed"));
    }, CRL_REPUBLISH_MS);
    this.#republish.unref();
    this.#leaves = new LeafStock({
      issue: (plugin, ttlMs) => issuePluginLeaf(ca, { trustDomain: ca.trustDomain, plugin, ttlMs, registry }),
      check: (leaf) => registry.checkNotRevoked(leaf),
    });
  }

  static async open(stateDir: string, trustDomain: string, log: Logger, options: TrustOptions = {}): Promise<Trust> {
    const ca = await loadOrCreateCA(stateDir, { trustDomain });
    log.info({ ca: ca.certPath, created: ca.created, trustDomain: ca.trustDomain, notAfter: ca.notAfter }, ca.created ? "created CA" : "loaded CA");
    const daysLeft = Math.floor((ca.notAfter.getTime() - Date.now()) / DAY_MS);
    if (daysLeft < CA_WARN_DAYS) {
      log.warn({ ca: ca.certPath, notAfter: ca.notAfter, daysLeft }, `the CA expires in ${daysLeft} days: certificates issued now end with it; plan its replacement (a new state directory's CA, and new client and admin certificates)`);
    }
    const registry = await openRegistry(stateDir, ca);
    const forgotten = await registry.forgetExpired();
    if (forgotten > 0) log.info({ certificates: forgotten }, "forgot the records of leaves long expired");
    const leaf = await RotatingLeaf.start({
      issue: () => issueSupervisorLeaf(ca, { trustDomain: ca.trustDomain, ttlMs: SUPERVISOR_LEAF_TTL_MS, registry }),
      caPem: ca.certPem,
      onRotate: (result) =>
        result instanceof Error
          ? log.error({ err: result.message }, "renewing the supervisor's certificate failed; keeping the current one")
          : log.info({ serial: result.serialHex, notAfter: result.notAfter }, "renewed the supervisor's certificate"),
    });
    const { pem } = await registry.publishCrl();
    const trust = new Trust(ca, registry, leaf, pem, log, options);
    await trust.#copyCrl();
    return trust;
  }

  get trustDomain(): string {
    return this.ca.trustDomain;
  }

  /** The CRL as last published, for a new instance's directory. */
  get crlPem(): string {
    return this.#crlPem;
  }

  /** A leaf for a new instance of `plugin`: issued ahead when it can be (identity/leaf-stock.ts). */
  issuePluginLeaf(plugin: string, ttlMs: number): Promise<IssuedLeaf> {
    return this.#leaves.take(plugin, ttlMs);
  }

  /** `plugin` left the config: its stocked leaf is dropped. */
  forgetPlugin(plugin: string): void {
    this.#leaves.forget(plugin);
  }

  /**
   * Reads and checks an operator-provided certificate for `plugin` (chain to
   * our CA, plugin ID, key, validity left, not revoked). Throws IdentityError
   * naming the rule that failed.
   */
  async operatorLeaf(plugin: string, files: { cert: string; key: string; minValidity: number }): Promise<IssuedLeaf> {
    const [certPem, keyPem] = await Promise.all([readFile(files.cert, "utf8"), readFile(files.key, "utf8")]);
    const id = checkOperatorCertificate(
      { certPem, keyPem, certPath: files.cert, keyPath: files.key },
      { ca: this.ca, trustDomain: this.trustDomain, plugin, minValidityMs: files.minValidity, revocations: this.registry },
    );
    this.registry.noteCertificate(id);
    return { certPem, keyPem, serialHex: id.serialHex, uri: id.uri, notBefore: id.notBefore, notAfter: id.notAfter };
  }

  /**
   * Reads the operator-provided certificate configured at `certPath` and, if
   * this CA signed it, notes it with the registry, so that revoking its
   * identity lists its serial in the CRL though no instance has served with
   * it since the supervisor started. One it cannot read or that another CA
   * signed is left out, with a warning: no host application trusts the latter.
   */
  async noteOperatorCertificate(certPath: string): Promise<void> {
    try {
      this.registry.noteCertificateOfThisCa(await readFile(certPath));
    } catch (err) {
      this.#log.warn({ certificate: certPath, err: (err as Error).message }, "an operator-provided certificate could not be read to list it in the CRL");
    }
  }

  /** Credentials for talking to `plugin`: its identity checked, and not revoked. */
  controlCredentials(plugin: string): ControlCredentials {
    return controlCredentials(this.trustDomain, this.leaf, plugin, (peer) => this.registry.checkNotRevoked(peer));
  }

  /** The admin server's credentials, renewed with the supervisor's leaf. */
  adminServerCredentials() {
    return experimental.createCertificateProviderServerCredentials(this.leaf, this.leaf, true);
  }

  /**
   * Throws unless the peer certificate (DER) is an admin of this trust
   * domain, valid now and not revoked; returns when it ends. TLS checks the
   * dates once, at the handshake: a connection outlives them, so every call
   * is checked again.
   */
  authorizeAdmin(der: Buffer | undefined, now = Date.now()): { notAfter: Date } {
    if (!der) throw new Error("no client certificate");
    const id = parsePeerIdentity(der);
    if (id.trustDomain !== this.trustDomain || id.kind !== "admin") {
      throw new Error(`${id.uri} is not an admin of ${this.trustDomain}`);
    }
    if (now >= id.notAfter.getTime()) throw new Error(`the certificate of ${id.uri} (serial ${id.serialHex}) expired at ${id.notAfter.toISOString()}`);
    if (now < id.notBefore.getTime()) throw new Error(`the certificate of ${id.uri} (serial ${id.serialHex}) is valid only from ${id.notBefore.toISOString()}`);
    try {
      this.registry.checkNotRevoked(id);
    } catch (err) {
      throw new Error(err instanceof IdentityError ? err.detail : (err as Error).message);
    }
    return { notAfter: id.notAfter };
  }

  /**
   * Publishes the CRL: new instances get it from now on (crlPem); the
   * instances running already are the caller's to give it to.
   */
  async publishCrl(): Promise<PublishedCrl> {
    const { pem, serials, number } = await this.registry.publishCrl();
    this.#crlPem = pem;
    await this.#copyCrl();
    this.#log.info({ revoked: serials.length }, "published the CRL");
    return { pem, number: number.toString() };
  }

  /**
   * Copies the CRL as last published where host applications read it. A
   * failure is logged, not thrown: the revocation is in force on the
   * supervisor's and the plugins' side all the same.
   */
  async #copyCrl(): Promise<void> {
    const target = this.#publishedCrl;
    if (target === undefined) return;
    const copy = this.#copied.then(() => replaceAtomically(target, this.#crlPem, 0o644));
    this.#copied = copy.catch((err: Error) => this.#log.error({ err: err.message, path: target }, "publishing the CRL for host applications failed"));
    await this.#copied;
  }

  close(): void {
    clearInterval(this.#republish);
    this.#leaves.close();
    this.leaf.close();
  }
}
