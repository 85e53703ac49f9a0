// The CA's revocation list as a host application enforces it on the plugins
// it calls (as go-shim/client/revocations.go does for Go): read again
// whenever the list's file or the CA's changes. A list that cannot be read
// or verified leaves the one read before in force; a missing file revokes
// nothing until it appears.
import { X509Certificate } from "node:crypto";
import { readFileSync, statSync } from "node:fs";
import { readCrl, type ReadCrl } from "../supervisor/identity/crl.ts";

/** Where the CA's certificate is: a file (read again when it changes), or the PEM. */
export type CaSource = { file: string } | { pem: string };

export class PluginRevocations {
  readonly #crlFile: string;
  readonly #ca: CaSource;
  #stamp: string;
  #list: ReadCrl | undefined;

  /** Reads `crlFile` now: one that is there but does not verify against the CA is an error of the configuration. */
  constructor(crlFile: string, ca: CaSource) {
    this.#crlFile = crlFile;
    this.#ca = ca;
    this.#stamp = this.#currentStamp();
    try {
      this.#list = this.#read();
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== "ENOENT") throw new Error(`corral client: revocation list ${crlFile}: ${(err as Error).message}`);
    }
  }

  /** Throws if the list in force revokes the plugin certificate's serial (serialHex form). */
  check(serialHex: string): void {
    const stamp = this.#currentStamp();
    if (stamp !== this.#stamp) {
      this.#stamp = stamp;
      try {
        this.#list = this.#read();
      } catch {
        // Kept: the list in force (see the top of this file).
      }
    }
    if (this.#list?.serials.has(serialHex)) {
      const number = this.#list.number === undefined ? "" : ` number ${this.#list.number}`;
      throw new Error(`the plugin's certificate (serial ${serialHex}) is revoked (${this.#crlFile}, CRL${number} of ${this.#list.thisUpdate.toISOString()})`);
    }
  }

  #read(): ReadCrl {
    const caPem = "file" in this.#ca ? readFileSync(this.#ca.file, "utf8") : this.#ca.pem;
    return readCrl(readFileSync(this.#crlFile), caCertificates(caPem));
  }

  /** The files' sizes and modification times, which change when a file is written or replaced. */
  #currentStamp(): string {
    return [this.#crlFile, ...("file" in this.#ca ? [this.#ca.file] : [])]
      .map((file) => {
        try {
          const s = statSync(file, { bigint: true });
          return `${s.size}/${s.mtimeNs}`;
        } catch (err) {
          return (err as NodeJS.ErrnoException).code ?? "error";
        }
      })
      .join(";");
  }
}

function caCertificates(pem: string): X509Certificate[] {
  const blocks = pem.match(/-----BEGIN CERTIFICATE-----[\s\S]*?-----END CERTIFICATE-----/g) ?? [];
  if (blocks.length === 0) throw new Error("no CA certificate");
  return blocks.map((block) => new X509Certificate(block));
}
