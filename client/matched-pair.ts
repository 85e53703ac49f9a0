// A credentials directory is renewed one file at a time (corralctl certs
// issue renames cert.pem, then key.pem; a copy by hand is slower still). A
// certificate provider that reads it between the two hands grpc-js a
// certificate and a key that do not match, and every new connection fails
// ("Failed to load credentials") until its next read, 10 s on. The Go client
// keeps the last pair that loads (go-shim/client renewingPair); this does the
// same for the Node one: an update whose key is not the certificate's is
// held back, and the pair before stays in force.
import type { experimental } from "@grpc/grpc-js";
import { keyMatchesCertificate } from "../supervisor/identity/keys.ts";

type IdentityListener = experimental.IdentityCertificateUpdateListener;
type IdentityUpdate = experimental.IdentityCertificateUpdate;

/** Whether the update's private key is the one of its certificate. */
export function pairMatches(update: IdentityUpdate): boolean {
  return keyMatchesCertificate(update.certificate, update.privateKey);
}

export class MatchedPairProvider implements experimental.CertificateProvider {
  readonly #inner: experimental.CertificateProvider;
  readonly #wrapped = new Map<IdentityListener, IdentityListener>();

  constructor(inner: experimental.CertificateProvider) {
    this.#inner = inner;
  }

  addCaCertificateListener(listener: experimental.CaCertificateUpdateListener): void {
    this.#inner.addCaCertificateListener(listener);
  }

  removeCaCertificateListener(listener: experimental.CaCertificateUpdateListener): void {
    this.#inner.removeCaCertificateListener(listener);
  }

  addIdentityCertificateListener(listener: IdentityListener): void {
    let last: IdentityUpdate | null = null;
    const wrapped: IdentityListener = (update) => {
      if (update !== null && !pairMatches(update)) {
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
