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

/**
 * `listener`, given only the updates that `whole` takes once one has come:
 * the others (and null) leave the last one in force. Until then, null:
 * nothing usable, as the files are.
 */
function holdingBack<U>(listener: (update: U | null) => void, whole: (update: U) => boolean): (update: U | null) => void {
  let taken = false;
  return (update) => {
    if (update !== null && whole(update)) {
      taken = true;
      listener(update);
    } else if (!taken) listener(null);
  };
}

export class WholeCredentialsProvider implements experimental.CertificateProvider {
  readonly #inner: experimental.CertificateProvider;
  readonly #wrapped = new Map<IdentityListener, IdentityListener>();
  readonly #wrappedCa = new Map<CaListener, CaListener>();

  constructor(inner: experimental.CertificateProvider) {
    this.#inner = inner;
  }

  addCaCertificateListener(listener: CaListener): void {
    const wrapped = holdingBack(listener, (update) => wholeCertificates(update.caCertificate));
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
    const wrapped = holdingBack(listener, pairMatches);
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
