// A credentials directory is renewed one file at a time (corralctl certs
// issue renames cert.pem, then key.pem; a copy by hand is slower still). A
// certificate provider that reads it between the two hands grpc-js a
// certificate and a key that do not match, and every new connection fails
// ("Failed to load credentials") until its next read, 10 s on. The Go client
// keeps the last pair that loads (go-shim/client renewingPair); this does the
// same for the Node one: an update whose key is not the certificate's is
// held back, and the pair before stays in force; so is one of files gone
// for a moment (null). And the CA the same way: a ca.pem read while it was
// being written (a copy under way) holds no whole certificate, or fewer,
// and a context made from it trusts nothing; every new connection failed
// for up to 10 s. A CA update is taken only if every PEM block in it is a
// certificate, and there is one.
import type { experimental } from "@grpc/grpc-js";
import { X509Certificate } from "node:crypto";
import { keyMatchesCertificate } from "../supervisor/identity/keys.ts";

type IdentityListener = experimental.IdentityCertificateUpdateListener;
type IdentityUpdate = experimental.IdentityCertificateUpdate;
type CaListener = experimental.CaCertificateUpdateListener;

const PEM_BLOCK = /-----BEGIN ([A-Z0-9 ]+)-----[\s\S]*?-----END \1-----/g;

/** Whether `pem` holds at least one certificate, and nothing but whole ones (a file read mid-write does not). */
export function wholeCertificates(pem: Buffer): boolean {
  const text = pem.toString();
  const blocks = [...text.matchAll(PEM_BLOCK)];
  if (blocks.length === 0 || text.split("-----BEGIN ").length - 1 !== blocks.length) return false;
  return blocks.every(([block, label]) => {
    if (label !== "CERTIFICATE") return false;
    try {
      new X509Certificate(block);
      return true;
    } catch {
      return false;
    }
  });
}

/** Whether the update's private key is the one of its certificate. */
export function pairMatches(update: IdentityUpdate): boolean {
  return keyMatchesCertificate(update.certificate, update.privateKey);
}

export class MatchedPairProvider implements experimental.CertificateProvider {
  readonly #inner: experimental.CertificateProvider;
  readonly #wrapped = new Map<IdentityListener, IdentityListener>();
  readonly #wrappedCa = new Map<CaListener, CaListener>();

  constructor(inner: experimental.CertificateProvider) {
    this.#inner = inner;
  }

  addCaCertificateListener(listener: CaListener): void {
    let good = false;
    const wrapped: CaListener = (update) => {
      if (update === null || !wholeCertificates(update.caCertificate)) {
        if (!good) listener(update); // none whole yet: as the file is
        return;
      }
      good = true;
      listener(update);
    };
    this.#wrappedCa.set(listener, wrapped);
    this.#inner.addCaCertificateListener(wrapped);
  }

  removeCaCertificateListener(listener: CaListener): void {
    const wrapped = this.#wrappedCa.get(listener);
    if (!wrapped) return;
    this.#wrappedCa.delete(listener);
    this.#inner.removeCaCertificateListener(wrapped);
  }

  addIdentityCertificateListener(listener: IdentityListener): void {
    let last: IdentityUpdate | null = null;
    const wrapped: IdentityListener = (update) => {
      if (update === null || !pairMatches(update)) {
        if (last === null) listener(null); // none that matches yet: as the files are
        return;
      }
      last = update;
      listener(update);
    };
    this.#wrapped.set(listener, wrapped);
    this.#inner.addIdentityCertificateListener(wrapped);
  }

  removeIdentityCertificateListener(listener: IdentityListener): void {
    const wrapped = this.#wrapped.get(listener);
    if (!wrapped) return;
    this.#wrapped.delete(listener);
    this.#inner.removeIdentityCertificateListener(wrapped);
  }
}
