// An instance's revocation list: the crl.pem of its directory, replaced
// whole (one write at a time, in order), and go-shim told to load it
// (Control.ReloadTrust). go-shim reads the file at its start if it has no
// Control channel yet; one that predates ReloadTrust watches the file.
import { status as grpcStatus } from "@grpc/grpc-js";
import path from "node:path";
import type { Logger } from "../log.ts";
import { replaceFile } from "../replace-file.ts";
import { RpcError, type ControlChannel } from "./control-channel.ts";

export class InstanceCrl {
  readonly #file: string;
  readonly #log: Logger;
  readonly #channel: () => ControlChannel | undefined;
  #pem: string | undefined;
  #writing: Promise<void> = Promise.resolve();

  constructor(dir: string, log: Logger, channel: () => ControlChannel | undefined) {
    this.#file = path.join(dir, "crl.pem");
    this.#log = log;
    this.#channel = channel;
  }

  /** The list the directory has, or is being given. */
  get pem(): string | undefined {
    return this.#pem;
  }

  /** Notes the list written with the instance's other files. */
  written(pem: string): void {
    this.#pem = pem;
  }

  /** Replaces the file with `pem`, after any replacement under way. */
  async replace(pem: string): Promise<void> {
    this.#pem = pem;
    const write = this.#writing.then(() => replaceFile(this.#file, pem, 0o644));
    this.#writing = write.catch(() => {});
    await write;
  }

  /**
   * Has go-shim look at the file now, warning unless the list then in force
   * is `published`; failures are logged (a go-shim that predates
   * ReloadTrust, UNIMPLEMENTED, is no failure). With `revokesSupervisor`
   * (the list revokes the certificate the supervisor's open connection was
   * made with), the connection's end is the list in force: go-shim closes
   * it on reading the list, before it answers.
   */
  async push(published?: string, { revokesSupervisor = false }: { revokesSupervisor?: boolean } = {}): Promise<void> {
    const channel = this.#channel();
    if (!channel) return;
    try {
      const inForce = await channel.reloadTrust();
      if (published !== undefined && inForce !== published) {
        this.#log.warn({ published, inForce }, "the instance does not enforce the CRL just published");
      }
    } catch (err) {
      if (err instanceof RpcError && err.code === grpcStatus.UNIMPLEMENTED) return;
      if (revokesSupervisor && err instanceof RpcError && err.code === grpcStatus.UNAVAILABLE) {
        this.#log.debug({ err: err.message }, "the instance closed the supervisor's connection of a revoked certificate on reading the CRL: the list is in force");
        return;
      }
      this.#log.warn({ err: (err as Error).message }, "telling the instance of its CRL failed; it looks at the file itself within 10 s");
    }
  }
}
