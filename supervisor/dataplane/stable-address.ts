// A plugin's stable address (DESIGN.md §8): the Unix socket path host
// applications call, `<runtime>/plugins/<name>.sock`, which never changes.
// It is a symlink, replaced atomically (new link + rename), pointing at
//
//   - the serving instance's data socket, as published in the instances
//     directory (published-socket.ts): calls go straight to the plugin,
//     end to end mTLS, with nothing of the supervisor's in the path; or
//   - the plugin's refusal server, when no instance may serve: calls fail at
//     once with UNAVAILABLE and the reason.
//
// connect(2) resolves the link, so a switch moves new connections; open
// ones are moved by GOAWAY: the old instance's drain or park sends it, and
// the refusal server sends it when an instance serves again.
//
// Why a link and not a proxy: a proxy in the supervisor costs every call
// two more hops through Node (`npm run bench -- dataplane` measures both),
// and a Node proxy is a shared point of failure for every plugin. The one
// thing a proxy does that a link cannot, refuse calls on a connection that
// is already open to an instance about to be stopped, the instance does
// itself: the supervisor asks it to park (GOAWAY to every data connection)
// before it stops it.
import { renameSync, rmSync, symlinkSync } from "node:fs";
import { randomBytes } from "node:crypto";
import path from "node:path";
import type { PluginConfig } from "../config/schema.ts";
import type { Logger } from "../log.ts";
import { PluginRefusal, type AddressParts } from "./plugin-refusal.ts";
import { NotASocket } from "./connect-through-link.ts";
import { TcpRelay } from "./tcp-relay.ts";
import { mayShareAPort } from "../host-port.ts";

/** The stable address of `plugin` under `runtimeDir`. */
export function stableAddressPath(runtimeDir: string, plugin: string): string {
  return path.join(runtimeDir, "plugins", `${plugin}.sock`);
}

/** Where the address points: an instance (its data socket as published), or the refusal and its reason. */
export type Route = { kind: "instance"; id: string; socket: string } | { kind: "refused"; reason: string };

/** An instance that serves: what puts its data socket where the address may lead, and says where (again after a park, when the socket is a new one). */
export interface ServingInstance {
  id: string;
  publishDataSocket(): string;
}

/** How soon a publication of the data socket that failed for a passing reason is tried again: doubling, at most `last`. */
const PUBLISH_RETRY_MS = { first: 100, last: 5000 };

/** A TCP connection the relay would not join: said when a plugin put something else in the place of its socket. */
function relayRefused(log: Logger): (err: Error) => void {
  return (err) => {
    if (err instanceof NotASocket) log.warn({ err: err.message }, "TCP connection not relayed");
  };
}

export class StableAddress {
  /** The path host applications dial. */
  readonly path: string;
  readonly #refusal: PluginRefusal;
  #tcp: TcpRelay | undefined;
  /** Relays of addresses a reload moved away from, while their connections end. */
  readonly #retiring = new Set<TcpRelay>();
  /** dataPlane.tcp as configured for #tcp (its port may be 0: the relay has the bound one). */
  #tcpConfigured: string | undefined;
  readonly #log: Logger;
  /** The instance the plugin's controller says serves, or why none does. */
  #routed: { kind: "instance"; instance: ServingInstance } | { kind: "refused"; reason: string };
  /** Instances a breaker has paused, and why. */
  readonly #held = new Map<string, string>();
  #effective: Route | undefined;
  /** A publication that failed for a passing reason (EMFILE) is tried again after this long, doubling. */
  readonly #publishBackoff = { ms: PUBLISH_RETRY_MS.first };
  /** The same, for pointing the link when that failed (#apply). */
  readonly #linkBackoff = { ms: PUBLISH_RETRY_MS.first };
  #retry: NodeJS.Timeout | undefined;
  /** Makes the link's directory again, with its owner and mode, when it has gone. */
  readonly #ensureDirectory: () => Promise<void>;
  #closed = false;

  constructor(options: {
    path: string;
    refusal: PluginRefusal;
    tcp?: { relay: TcpRelay; configured: string };
    log: Logger;
    reason: string;
    ensureDirectory?: () => Promise<void>;
  }) {
    this.path = options.path;
    this.#ensureDirectory = options.ensureDirectory ?? (async () => {});
    this.#refusal = options.refusal;
    this.#tcp = options.tcp?.relay;
    this.#tcpConfigured = options.tcp?.configured;
    this.#log = options.log;
    this.#routed = { kind: "refused", reason: options.reason };
    this.#apply();
  }

  /**
   * Opens `plugin`'s stable address under `runtimeDir`, refusing calls
   * (the plugin is stopped) until its controller says an instance serves.
   */
  static async open(plugin: PluginConfig, parts: AddressParts): Promise<StableAddress> {
    const file = stableAddressPath(parts.directories.runtimeDir, plugin.name);
    // Again if either has gone since the start (DataPlaneDirectories).
    await parts.directories.ensure("plugins");
    await parts.directories.ensure("refusals");
    const log = parts.log.child({ plugin: plugin.name });
    const refusal = await PluginRefusal.open(plugin, { ...parts, log });
    try {
      const tcp = plugin.dataPlane.tcp ? await TcpRelay.listen(plugin.dataPlane.tcp, file, relayRefused(log)) : undefined;
      return new StableAddress({
        path: file,
        refusal,
        ...(tcp && { tcp: { relay: tcp, configured: plugin.dataPlane.tcp! } }),
        log,
        reason: refusal.server.reason,
        ensureDirectory: () => parts.directories.ensure("plugins"),
      });
    } catch (err) {
      await refusal.close();
      throw err;
    }
  }

  /** The TCP address, when the plugin has one. */
  get tcpAddress(): string | undefined {
    return this.#tcp?.address;
  }

  /**
   * Listens on `hostPort` instead (a reload changed dataPlane.tcp, or put it
   * back), or on no TCP address; nothing changes when it is what listens now.
   * The old address's connections go on until they end, for at most graceMs
   * (until the plugin has recycled them: config-reload.ts), or until close().
   */
  async setTcp(hostPort: string | undefined, graceMs: number): Promise<void> {
    if (hostPort === this.#tcpConfigured) return;
    const old = this.#tcp;
    const listen = (address: string) => TcpRelay.listen(address, this.path, relayRefused(this.#log));
    const retire = (relay: TcpRelay) => {
      this.#retiring.add(relay);
      void relay.retire(graceMs).finally(() => this.#retiring.delete(relay));
    };
    try {
      this.#tcp = hostPort ? await listen(hostPort) : undefined;
      this.#tcpConfigured = hostPort;
      if (old) retire(old);
    } catch (err) {
      // The new address overlaps the old (the same port, one of them every
      // host address or a name: 127.0.0.1:p to 0.0.0.0:p or localhost:p):
      // the old one goes first.
      // Should the new one still fail, the old is listened on again. Held by
      // another process instead, the old one is left alone, its connections
      // with it.
      if ((err as NodeJS.ErrnoException).code !== "EADDRINUSE" || !old || !hostPort || !mayShareAPort(old.address, hostPort)) throw err;
      retire(old); // its port is free at once
      this.#tcp = undefined;
      try {
        this.#tcp = await listen(hostPort);
        this.#tcpConfigured = hostPort;
      } catch (again) {
        this.#tcp = await listen(old.address).catch(() => undefined);
        throw again;
      }
    }
  }

  /** Where new connections go now. */
  get route(): Route {
    return this.#effective!;
  }

  /** The controller's word: `instance` serves from now on. */
  serve(instance: ServingInstance): void {
    if (this.#routed.kind !== "instance" || this.#routed.instance.id !== instance.id) this.#publishBackoff.ms = PUBLISH_RETRY_MS.first;
    this.#routed = { kind: "instance", instance };
    this.#apply();
  }

  /** The controller's word: no instance serves, because of `reason`. */
  refuse(reason: string): void {
    this.#routed = { kind: "refused", reason };
    this.#apply();
  }

  /** A breaker pauses `instanceId`: while it is the one routed to, calls are refused with `reason`. */
  hold(instanceId: string, reason: string): void {
    this.#held.set(instanceId, reason);
    this.#apply();
  }

  /** The pause of `instanceId` is over. */
  release(instanceId: string): void {
    if (this.#held.delete(instanceId)) this.#apply();
  }

  #apply(): void {
    if (this.#closed) return;
    clearTimeout(this.#retry);
    this.#retry = undefined;
    const routed = this.#routed;
    const held = routed.kind === "instance" ? this.#held.get(routed.instance.id) : undefined;
    const before = this.#effective;
    const next: Route =
      routed.kind === "refused" ? routed : held !== undefined ? { kind: "refused", reason: held } : this.#instanceRoute(routed.instance, before);
    this.#effective = next;
    try {
      if (next.kind === "refused") {
        this.#refusal.server.refuse(next.reason);
        if (before?.kind !== "refused") {
          this.#refusal.checkListening();
          this.#link(this.#refusal.server.socket);
        }
      } else if (before?.kind !== "instance" || before.socket !== next.socket) {
        this.#link(next.socket);
        // Clients that were refused on an open connection come back through the link.
        this.#refusal.server.sendAway();
      }
      this.#linkBackoff.ms = PUBLISH_RETRY_MS.first;
    } catch (err) {
      // The runtime directory's file system full, say (/run is the host's):
      // the link still leads where it did, and is pointed again later. It
      // was thrown to whatever changed the route (an instance's exit among
      // them), unhandled, and ended the supervisor with every plugin.
      this.#effective = before;
      // Its directory gone (a cleaner of a runtimeDir under /tmp): made
      // again before the retry, which would otherwise fail for good.
      if ((err as NodeJS.ErrnoException).code === "ENOENT") {
        this.#ensureDirectory().catch((mkErr: Error) => this.#log.debug({ err: mkErr.message }, "making the stable address's directory again failed"));
      }
      const again = this.#applyAgainLater(this.#linkBackoff);
      this.#log[again.first ? "error" : "debug"]({ address: this.path, err: (err as Error).message, retryInMs: again.ms }, "the stable address could not be pointed anew; it is tried again");
      return;
    }
    if (before === undefined || before.kind !== next.kind || (next.kind === "instance" && before.kind === "instance" && before.id !== next.id)) {
      this.#log.info(next.kind === "instance" ? { address: this.path, instance: next.id } : { address: this.path, reason: next.reason }, next.kind === "instance" ? "stable address serves" : "stable address refuses calls");
    }
  }

  /**
   * The route to `instance`: its data socket published anew whenever the
   * address comes to it (a park's unpark listens on a new socket), or,
   * when the plugin put something else in the place of that socket, a
   * refusal saying so.
   */
  #instanceRoute(instance: ServingInstance, before: Route | undefined): Route {
    if (before?.kind === "instance" && before.id === instance.id) return before;
    try {
      const socket = instance.publishDataSocket();
      this.#publishBackoff.ms = PUBLISH_RETRY_MS.first;
      return { kind: "instance", id: instance.id, socket };
    } catch (err) {
      // What callers are told: no host path.
      if (err instanceof NotASocket) {
        this.#log.warn({ instance: instance.id, err: err.message }, "the instance's data socket is not served");
        return { kind: "refused", reason: "the plugin put something else in the place of its data socket: not served" };
      }
      // Out of fds, say: nothing the controller would see, so nothing
      // else would try again while the instance serves on.
      // Said once, then as each retry fails at debug.
      const again = this.#applyAgainLater(this.#publishBackoff);
      this.#log[again.first ? "warn" : "debug"]({ instance: instance.id, err: (err as Error).message, retryInMs: again.ms }, "the instance's data socket is not served yet");
      return { kind: "refused", reason: `the plugin's data socket cannot be served (${(err as NodeJS.ErrnoException).code ?? (err as Error).message})` };
    }
  }

  /** Has #apply run again after the backoff's delay, which then doubles up to PUBLISH_RETRY_MS.last; says the delay, and whether it was the first. */
  #applyAgainLater(backoff: { ms: number }): { ms: number; first: boolean } {
    const ms = backoff.ms;
    this.#retry = setTimeout(() => {
      this.#retry = undefined;
      this.#apply();
    }, ms);
    backoff.ms = Math.min(ms * 2, PUBLISH_RETRY_MS.last);
    return { ms, first: ms === PUBLISH_RETRY_MS.first };
  }

  /** Points the link at `target`: a new link renamed over the old, so there is never a moment without one. */
  #link(target: string): void {
    const temp = `${this.path}.${randomBytes(4).toString("hex")}.tmp`;
    symlinkSync(target, temp);
    try {
      renameSync(temp, this.path);
    } catch (err) {
      rmSync(temp, { force: true });
      throw err;
    }
  }

  /** Removes the link and stops the refusal server and TCP relay. */
  async close(): Promise<void> {
    if (this.#closed) return;
    this.#closed = true;
    clearTimeout(this.#retry);
    rmSync(this.path, { force: true });
    await Promise.all([this.#tcp?.close(), ...[...this.#retiring].map((relay) => relay.close())]);
    await this.#refusal.close();
  }

  /** The serial of the refusal server's certificate, which carries the plugin's identity. */
  get refusalSerial(): string | undefined {
    return this.#refusal.serial;
  }

  /** Renews the refusal server's certificate now (PluginRefusal.renewCertificate). */
  async renewRefusalCertificate(): Promise<void> {
    if (!this.#closed) await this.#refusal.renewCertificate();
  }
}
