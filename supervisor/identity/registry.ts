// What the CA has issued and revoked, and the CRL that publishes the latter.
//
//   <stateDir>/ca/issued.jsonl   one JSON line per leaf issued; append-only, 0600
//   <stateDir>/ca/revoked.json   revoked serials and identities, the last cRLNumber;
//                                replaced atomically, 0600
//   <stateDir>/ca/crl.pem        the CRL, replaced atomically, 0644
//
// One writer: the process that opened the registry (the supervisor; corralctl
// goes through its admin API). Every change is on disk before the call that
// made it resolves, and takes effect in memory only then, so what isRevoked
// answers is what a restart will answer.

import { X509Certificate } from "node:crypto";
import { join } from "node:path";
import type { CertificateAuthority } from "./ca.ts";
import { signCrl, REVOCATION_REASONS, type RevocationReason } from "./crl.ts";
import { IdentityError } from "./errors.ts";
import { replaceAtomically } from "./files.ts";
import { parsePeerIdentity } from "./identity.ts";
import {
  appendIssued,
  loadIssued,
  loadRevoked,
  saveIssued,
  saveRevoked,
  type IssuedCertificate,
  type RevocationState,
  type RevokedIdentity,
  type RevokedSerial,
} from "./registry-files.ts";
import { normalizeSerialHex } from "./serial.ts";
import { LOCAL_ADMIN, parseSpiffeId } from "./spiffe.ts";

export type { IssuedCertificate, RevokedIdentity, RevokedSerial } from "./registry-files.ts";

export interface RevokeOptions {
  reason?: RevocationReason;
  note?: string;
}

export interface CertificateListing {
  /** Leaves issued through this registry, newest first, with their revocation if revoked. */
  issued: Array<IssuedCertificate & { revocation?: RevokedSerial }>;
  /** Every revoked serial still in the CRL, including serials this registry did not issue. */
  revoked: RevokedSerial[];
  /** Identities for which issuance is refused until unrevokeIdentity. */
  revokedIdentities: RevokedIdentity[];
}

export interface PublishedCrl {
  pem: string;
  path: string;
  number: bigint;
  thisUpdate: Date;
  nextUpdate: Date;
  /** Serials listed. */
  serials: string[];
}

export interface RegistryOptions {
  /** How long a published CRL is valid (its nextUpdate), default 7 days. Publish again well before. */
  crlValidityMs?: number;
  now?: () => number;
}

/** What issuance needs of a registry (issue.ts); a CertificateRegistry is one, a test may pass its own. */
export interface IssuanceRecorder {
  /** Throws IdentityError "identity-revoked" if `uri` may not be issued a certificate. */
  assertMayIssue(uri: string): void;
  /** Records a leaf before it is handed out; refuses (throws) if its identity was revoked meanwhile. */
  recordIssued(certificate: IssuedCertificate): Promise<void>;
}

const DAY_MS = 24 * 3600 * 1000;
export const DEFAULT_CRL_VALIDITY_MS = 7 * DAY_MS;

/** Opens the registry of the CA in `<stateDir>/ca`, reading what it recorded before. */
export async function openRegistry(stateDir: string, ca: CertificateAuthority, options: RegistryOptions = {}): Promise<CertificateRegistry> {
  return CertificateRegistry.open(stateDir, ca, options);
}

/** How long after its expiry a leaf's record is kept (`certs list --all` shows it meanwhile). */
export const ISSUED_KEPT_AFTER_EXPIRY_MS = 7 * 86_400_000;

export class CertificateRegistry implements IssuanceRecorder {
  readonly paths: { readonly issued: string; readonly revoked: string; readonly crl: string };
  private readonly ca: CertificateAuthority;
  private readonly caCert: X509Certificate;
  private readonly issued: Map<string, IssuedCertificate>;
  private readonly byUri = new Map<string, Set<string>>();
  /**
   * Certificates of this CA that it did not issue (operator-provided ones),
   * by identity, as the supervisor has read them since it started: while the
   * identity is revoked the CRL lists them too, which is what host
   * applications check. Kept in memory only: the supervisor reads the
   * configured ones again at each start.
   */
  private readonly known = new Map<string, Map<string, Date>>(); // by uri: serial → notAfter
  private state: RevocationState;
  private readonly crlValidityMs: number;
  private readonly now: () => number;
  /** Changes run one at a time, so each sees the last one's state on disk. */
  private queue: Promise<unknown> = Promise.resolve();

  static async open(stateDir: string, ca: CertificateAuthority, options: RegistryOptions = {}): Promise<CertificateRegistry> {
    const dir = join(stateDir, "ca");
    const paths = { issued: join(dir, "issued.jsonl"), revoked: join(dir, "revoked.json"), crl: join(dir, "crl.pem") };
    const crlValidityMs = options.crlValidityMs ?? DEFAULT_CRL_VALIDITY_MS;
    if (!Number.isFinite(crlValidityMs) || crlValidityMs < 1000) throw new Error(`invalid crlValidityMs ${crlValidityMs}: at least one second`);
    const [issued, state] = await Promise.all([loadIssued(paths.issued), loadRevoked(paths.revoked)]);
    return new CertificateRegistry(ca, paths, issued, state, crlValidityMs, options.now ?? Date.now);
  }

  private constructor(
    ca: CertificateAuthority,
    paths: { issued: string; revoked: string; crl: string },
    issued: Map<string, IssuedCertificate>,
    state: RevocationState,
    crlValidityMs: number,
    now: () => number,
  ) {
    this.ca = ca;
    this.caCert = new X509Certificate(ca.certPem);
    this.paths = paths;
    this.issued = issued;
    for (const cert of issued.values()) this.index(cert);
    this.state = state;
    this.crlValidityMs = crlValidityMs;
    this.now = now;
  }

  // --- queries (synchronous: they sit on the TLS handshake path) -----------

  /** Whether the serial (any hex spelling) is revoked. */
  isRevoked(serialHex: string): boolean {
    const serial = normalizeSerialHex(serialHex);
    return serial !== undefined && this.state.serials.has(serial);
  }

  /** Whether issuance for this identity URI is refused. */
  isIdentityRevoked(uri: string): boolean {
    return this.state.identities.has(uri);
  }

  /** Throws IdentityError "revoked" or "identity-revoked" for a peer that must be refused. */
  checkNotRevoked(peer: { readonly serialHex: string; readonly uri: string }): void {
    const serial = normalizeSerialHex(peer.serialHex);
    const revoked = serial === undefined ? undefined : this.state.serials.get(serial);
    if (revoked) {
      throw new IdentityError("revoked", `certificate ${revoked.serialHex} of ${peer.uri} was revoked at ${revoked.revokedAt.toISOString()}${describeWhy(revoked)}`);
    }
    const identity = this.state.identities.get(peer.uri);
    if (identity) {
      throw new IdentityError("identity-revoked", `identity ${peer.uri} was revoked at ${identity.revokedAt.toISOString()}${describeWhy(identity)}`);
    }
  }

  assertMayIssue(uri: string): void {
    const identity = this.state.identities.get(uri);
    if (identity) {
      throw new IdentityError(
        "identity-revoked",
        `identity ${uri} was revoked at ${identity.revokedAt.toISOString()}${describeWhy(identity)}; no certificate is issued for it until it is unrevoked`,
      );
    }
  }

  list(options: { includeExpired?: boolean; includeRevoked?: boolean } = {}): CertificateListing {
    const now = this.now();
    const issued: CertificateListing["issued"] = [];
    for (const cert of this.issued.values()) {
      if (!options.includeExpired && cert.notAfter.getTime() <= now) continue;
      const revocation = this.state.serials.get(cert.serialHex);
      if (revocation && !options.includeRevoked) continue;
      issued.push(revocation ? { ...cert, revocation } : { ...cert });
    }
    issued.sort((a, b) => b.issuedAt.getTime() - a.issuedAt.getTime());
    return {
      issued,
      revoked: [...this.state.serials.values()].filter((r) => r.notAfter.getTime() > now),
      revokedIdentities: [...this.state.identities.values()],
    };
  }

  /**
   * Notes a certificate of this CA that was not issued through this registry
   * (an operator-provided one, checked already), so that revokeIdentity
   * revokes its serial with the rest of the identity's.
   */
  noteCertificate(cert: { readonly serialHex: string; readonly uri: string; readonly notAfter: Date }): void {
    const serial = normalizeSerialHex(cert.serialHex);
    if (serial === undefined || this.issued.has(serial)) return;
    let serials = this.known.get(cert.uri);
    if (!serials) this.known.set(cert.uri, (serials = new Map()));
    serials.set(serial, cert.notAfter);
  }

  // --- changes ---------------------------------------------------------------

  async recordIssued(certificate: IssuedCertificate): Promise<void> {
    const serialHex = normalizeSerialHex(certificate.serialHex);
    if (serialHex === undefined) throw new Error(`invalid serial ${JSON.stringify(certificate.serialHex)}`);
    const record = { ...certificate, serialHex };
    await this.exclusive(async () => {
      // Checked again here, in turn with revokeIdentity: a leaf signed while
      // its identity was being revoked is refused, not handed out unrevoked.
      this.assertMayIssue(record.uri);
      if (this.issued.has(serialHex)) throw new Error(`serial ${serialHex} was already issued`);
      await appendIssued(this.paths.issued, record);
      this.issued.set(serialHex, record);
      this.index(record);
    });
  }

  /**
   * Forgets the leaves that expired more than ISSUED_KEPT_AFTER_EXPIRY_MS
   * ago: every instance start issues one, and the record (in memory and in
   * issued.jsonl) would otherwise grow for good. What a CRL needs is kept
   * apart, in the revocation state. Returns how many were dropped.
   */
  async forgetExpired(): Promise<number> {
    return this.exclusive(async () => {
      const horizon = this.now() - ISSUED_KEPT_AFTER_EXPIRY_MS;
      const gone = [...this.issued.values()].filter((c) => c.notAfter.getTime() < horizon);
      if (gone.length === 0) return 0;
      await saveIssued(this.paths.issued, [...this.issued.values()].filter((c) => c.notAfter.getTime() >= horizon));
      for (const cert of gone) {
        this.issued.delete(cert.serialHex);
        const serials = this.byUri.get(cert.uri);
        serials?.delete(cert.serialHex);
        if (serials?.size === 0) this.byUri.delete(cert.uri);
      }
      return gone.length;
    });
  }

  /**
   * Revokes one serial. A serial this registry did not issue is accepted (an
   * operator-provided certificate, say) and stays in the CRL until the CA
   * expires; revokeCertificate knows the certificate's own expiry. Revoking a
   * revoked serial changes nothing and returns the first revocation.
   */
  async revokeSerial(serialHex: string, options: RevokeOptions = {}): Promise<RevokedSerial> {
    const serial = normalizeSerialHex(serialHex);
    if (serial === undefined) throw new Error(`invalid serial ${JSON.stringify(serialHex)}: expected a positive hex number`);
    assertReason(options.reason);
    return this.exclusive(async () => {
      const cert = this.issued.get(serial);
      const [entry] = await this.revokeSerials([{ serialHex: serial, notAfter: cert?.notAfter ?? this.ca.notAfter, uri: cert?.uri }], options);
      return entry!;
    });
  }

  /** Revokes a certificate of this CA, issued through this registry or not (PEM or DER). */
  async revokeCertificate(cert: string | Buffer, options: RevokeOptions = {}): Promise<RevokedSerial> {
    assertReason(options.reason);
    const { serialHex, notAfter, uri } = this.ofThisCa(cert, "to revoke");
    return this.exclusive(async () => {
      const [entry] = await this.revokeSerials([{ serialHex, notAfter, uri }], options);
      return entry!;
    });
  }

  /**
   * noteCertificate for a certificate (PEM or DER) that this CA signed and
   * that names a Corral identity; throws IdentityError otherwise.
   */
  noteCertificateOfThisCa(cert: string | Buffer): void {
    const { serialHex, notAfter, uri } = this.ofThisCa(cert, "to note");
    if (uri === undefined) throw new IdentityError("uri-san-form", `certificate ${serialHex} names no Corral identity`);
    this.noteCertificate({ serialHex, notAfter, uri });
  }

  /**
   * Revokes every unexpired serial issued to `uri`, and refuses issuance for
   * it from now on (assertMayIssue, recordIssued) until unrevokeIdentity:
   * otherwise the next rotation or restart would issue a fresh leaf and undo
   * the revocation. Returns the identity's revoked serials still valid,
   * with those of the certificates noted (noteCertificate), which the CRL
   * lists while the identity is revoked.
   */
  async revokeIdentity(uri: string, options: RevokeOptions = {}): Promise<{ identity: RevokedIdentity; serials: string[] }> {
    const id = parseSpiffeId(uri);
    if (!id) throw new Error(`${JSON.stringify(uri)} is not a Corral identity (spiffe://<trust-domain>/<kind>/<name>)`);
    if (id.trustDomain !== this.ca.trustDomain) throw new Error(`identity ${uri} is not of this CA's trust domain ${this.ca.trustDomain}`);
    if (id.kind === "supervisor") {
      throw new Error(`the supervisor's identity cannot be revoked as a whole (it could not start again); revoke the serial of a compromised certificate instead`);
    }
    if (id.kind === "admin" && id.name === LOCAL_ADMIN) {
      throw new Error(
        `the local admin's identity (${uri}) cannot be revoked as a whole (the supervisor could not start again); revoke the serial of a compromised certificate instead: a new one is issued at once`,
      );
    }
    assertReason(options.reason);
    return this.exclusive(async () => {
      const now = this.now();
      const identity = this.state.identities.get(uri) ?? { uri, revokedAt: new Date(now), ...reasonFields(options) };
      const targets = [...(this.byUri.get(uri) ?? [])]
        .map((serial) => this.issued.get(serial)!)
        .filter((cert) => cert.notAfter.getTime() > now)
        .map((cert) => ({ serialHex: cert.serialHex, notAfter: cert.notAfter, uri }));
      const identities = new Map(this.state.identities).set(uri, identity);
      const entries = await this.revokeSerials(targets, options, identities);
      return { identity, serials: [...entries.map((e) => e.serialHex), ...this.knownListed(uri, now).map((k) => k.serialHex)] };
    });
  }

  /** Allows issuance for `uri` again; its revoked serials stay revoked. False if it was not revoked. */
  async unrevokeIdentity(uri: string): Promise<boolean> {
    return this.exclusive(async () => {
      if (!this.state.identities.has(uri)) return false;
      const identities = new Map(this.state.identities);
      identities.delete(uri);
      await this.commit({ ...this.pruned(this.now()), identities });
      return true;
    });
  }

  /**
   * Signs a CRL of the revoked serials not yet expired, with the next
   * cRLNumber, and replaces `<stateDir>/ca/crl.pem` with it. The number is
   * persisted before the CRL is written, so no number is ever used twice.
   */
  async publishCrl(): Promise<PublishedCrl> {
    return this.exclusive(async () => {
      const now = this.now();
      const state = this.pruned(now);
      const number = state.crlNumber + 1n;
      const thisUpdate = new Date(now);
      const nextUpdate = new Date(Math.min(now + this.crlValidityMs, this.ca.notAfter.getTime()));
      const entries = [...state.serials.values()].map((r) => ({ serialHex: r.serialHex, revocationDate: r.revokedAt, ...(r.reason ? { reason: r.reason } : {}) }));
      // Certificates Corral did not issue (operators'), of a revoked identity:
      // listed while it is revoked, not revoked for good (Corral could not
      // issue one in their place), so that an unrevoke lets them serve again.
      for (const identity of state.identities.values()) {
        for (const known of this.knownListed(identity.uri, now)) {
          if (!state.serials.has(known.serialHex)) entries.push({ serialHex: known.serialHex, revocationDate: identity.revokedAt, ...(identity.reason ? { reason: identity.reason } : {}) });
        }
      }
      const crl = signCrl(this.ca, { number, thisUpdate, nextUpdate, entries });
      await this.commit({ ...state, crlNumber: number });
      await replaceAtomically(this.paths.crl, crl.pem, 0o644);
      return {
        pem: crl.pem,
        path: this.paths.crl,
        number,
        // As written in the CRL: whole seconds.
        thisUpdate: new Date(Math.floor(now / 1000) * 1000),
        nextUpdate: new Date(Math.floor(nextUpdate.getTime() / 1000) * 1000),
        serials: entries.map((e) => e.serialHex),
      };
    });
  }

  // --- internals -------------------------------------------------------------

  /** A certificate this CA signed, read: its serial, end and identity (undefined if it names none); IdentityError if not. */
  private ofThisCa(cert: string | Buffer, what: string): { serialHex: string; notAfter: Date; uri: string | undefined } {
    let x509: X509Certificate;
    try {
      x509 = new X509Certificate(cert);
    } catch (error) {
      throw new IdentityError("malformed-certificate", `cannot read the certificate ${what}: ${(error as Error).message}`, { cause: error });
    }
    if (!x509.checkIssued(this.caCert) || !x509.verify(this.caCert.publicKey)) {
      throw new IdentityError("chain", `certificate ${x509.serialNumber} (${x509.subject.replaceAll("\n", ", ")}) was not issued by this CA`);
    }
    let uri: string | undefined;
    try {
      uri = parsePeerIdentity(x509.raw).uri;
    } catch {
      uri = undefined; // revocable all the same
    }
    return { serialHex: normalizeSerialHex(x509.serialNumber)!, notAfter: x509.validToDate, uri };
  }

  /** The noted certificates of `uri` (noteCertificate) not expired at `now`. */
  private knownListed(uri: string, now: number): Array<{ serialHex: string }> {
    return [...(this.known.get(uri) ?? [])].filter(([, notAfter]) => notAfter.getTime() > now).map(([serialHex]) => ({ serialHex }));
  }

  private index(cert: IssuedCertificate): void {
    let serials = this.byUri.get(cert.uri);
    if (!serials) this.byUri.set(cert.uri, (serials = new Set()));
    serials.add(cert.serialHex);
  }

  /** Adds revocations (keeping earlier ones of the same serial), persists, and returns the entries. */
  private async revokeSerials(
    targets: Array<{ serialHex: string; notAfter: Date; uri: string | undefined }>,
    options: RevokeOptions,
    identities?: Map<string, RevokedIdentity>,
  ): Promise<RevokedSerial[]> {
    const now = this.now();
    const state = this.pruned(now);
    const serials = new Map(state.serials);
    const entries = targets.map((t) => {
      const existing = serials.get(t.serialHex);
      if (existing) return existing;
      const entry: RevokedSerial = {
        serialHex: t.serialHex,
        revokedAt: new Date(now),
        ...reasonFields(options),
        notAfter: t.notAfter,
        ...(t.uri !== undefined ? { uri: t.uri } : {}),
      };
      serials.set(t.serialHex, entry);
      return entry;
    });
    await this.commit({ ...state, serials, identities: identities ?? state.identities });
    return entries;
  }

  /** The state without serials whose certificates have expired: they leave the CRL. */
  private pruned(now: number): RevocationState {
    const serials = new Map([...this.state.serials].filter(([, r]) => r.notAfter.getTime() > now));
    return { ...this.state, serials };
  }

  private async commit(next: RevocationState): Promise<void> {
    await saveRevoked(this.paths.revoked, next);
    this.state = next;
  }

  private exclusive<T>(fn: () => Promise<T>): Promise<T> {
    const run = this.queue.then(fn, fn);
    this.queue = run.catch(() => undefined);
    return run;
  }
}

function describeWhy(r: { reason?: RevocationReason; note?: string }): string {
  const parts = [r.reason, r.note].filter((p) => p !== undefined && p !== "");
  return parts.length > 0 ? ` (${parts.join(": ")})` : "";
}

function reasonFields(options: RevokeOptions): { reason?: RevocationReason; note?: string } {
  return {
    ...(options.reason !== undefined ? { reason: options.reason } : {}),
    ...(options.note ? { note: options.note } : {}),
  };
}

function assertReason(reason: string | undefined): void {
  if (reason !== undefined && !(reason in REVOCATION_REASONS)) {
    throw new Error(`invalid revocation reason ${JSON.stringify(reason)}: one of ${Object.keys(REVOCATION_REASONS).join(", ")}`);
  }
}
