// The CA's revocation list as a host application enforces it on the plugins
// it calls (as go-shim/client/revocations.go does for Go): read again
// whenever the list's file or the CA's changes. A list that cannot be read
// or verified leaves the one read before in force; a missing file revokes
// nothing until it appears.
//
// A handshake is checked against the list; so are the connections made
// before it changed: while any is open, the files are looked at every
// second, and a connection whose plugin certificate a new list revokes is
// closed. A plugin's go-shim recycles its connections itself, but an
// impostor presenting a plugin's stolen key would not.
import { X509Certificate } from "node:crypto";
import { readFileSync, statSync } from "node:fs";
import type { TLSSocket } from "node:tls";
import { olderThanInForce, readCrl, type ReadCrl } from "../supervisor/identity/crl.ts";

/** How often the files are looked at while connections are open. */
export const OPEN_CONNECTIONS_CHECK_MS = 1000;

/** Where the CA's certificate is: a file (read again when it changes), or the PEM. */
export type CaSource = { file: string } | { pem: string };

export class PluginRevocations {
  readonly #crlFile: string;
  readonly #ca: CaSource;
  #stamp: string;
  #list: ReadCrl | undefined;

  /**
   * Reads `crlFile` now. One that is there but does not verify against the
   * CA is an error of the configuration when the list was named (`required`);
   * a default one (another supervisor's, say) is taken as none until a list
   * of this CA is published there.
   */
  constructor(crlFile: string, ca: CaSource, { required = true }: { required?: boolean } = {}) {
    this.#crlFile = crlFile;
    this.#ca = ca;
    this.#stamp = this.#currentStamp();
    try {
      this.#list = this.#read();
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== "ENOENT" && required) throw new Error(`corral client: revocation list ${crlFile}: ${(err as Error).message}`);
    }
  }

  /** Throws if the list in force revokes the plugin certificate's serial (serialHex form). */
  check(serialHex: string): void {
    this.#refresh();
    if (this.#list?.serials.has(serialHex)) {
      const number = this.#list.number === undefined ? "" : ` number ${this.#list.number}`;
      throw new Error(`the plugin's certificate (serial ${serialHex}) is revoked (${this.#crlFile}, CRL${number} of ${this.#list.thisUpdate.toISOString()})`);
    }
  }

  /** Reads the list again if its file or the CA's changed; closes the open connections it revokes. */
  #refresh(): void {
    const stamp = this.#currentStamp();
    if (stamp === this.#stamp) return;
    this.#stamp = stamp;
    try {
      const next = this.#read();
      if (olderThanInForce(next, this.#list)) return; // kept: an older list would lift revocations made since
      this.#list = next;
    } catch {
      return; // kept: the list in force (see the top of this file)
    }
    for (const [socket, serial] of this.#open) if (this.#list.serials.has(serial)) socket.destroy();
  }

  readonly #open = new Map<TLSSocket, string>();
  #watch: NodeJS.Timeout | undefined;

  /** Keeps a connection whose plugin certificate has `serial` under watch until it closes. */
  track(socket: TLSSocket, serial: string): void {
    this.#open.set(socket, serial);
    socket.once("close", () => this.#untrack(socket));
    this.#watch ??= setInterval(() => {
      // A socket whose end Node never read may close without 'close' (instance-watch.ts): let go of it too.
      for (const open of this.#open.keys()) if (open.destroyed) this.#untrack(open);
      this.#refresh();
    }, OPEN_CONNECTIONS_CHECK_MS).unref();
  }

  #untrack(socket: TLSSocket): void {
    this.#open.delete(socket);
    if (this.#open.size === 0) {
      clearInterval(this.#watch);
      this.#watch = undefined;
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
