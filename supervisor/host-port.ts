// TCP addresses as config writes them and status shows them: host:port,
// an IPv6 host in brackets ([::1]:7443).
import { isIP, type AddressInfo } from "node:net";

/** The host (brackets removed) and port of `hostPort`. */
export function splitHostPort(hostPort: string): { host: string; port: number } {
  const colon = hostPort.lastIndexOf(":");
  return { host: hostPort.slice(0, colon).replace(/^\[(.*)\]$/, "$1"), port: Number(hostPort.slice(colon + 1)) };
}

/** A bound listener's address as host:port. */
export function joinHostPort(bound: AddressInfo): string {
  return `${bound.family === "IPv6" ? `[${bound.address}]` : bound.address}:${bound.port}`;
}

/**
 * Whether two host:port addresses may take the same port of one host
 * address: the same port (not 0, which the kernel picks), on the same host,
 * on every host (0.0.0.0, ::), or on a host name, which may resolve to the
 * other (localhost and 127.0.0.1).
 */
export function mayShareAPort(a: string, b: string): boolean {
  const [x, y] = [splitHostPort(a), splitHostPort(b)];
  const wide = (host: string) => host === "0.0.0.0" || host === "::" || host === "" || isIP(host) === 0;
  return x.port === y.port && x.port !== 0 && (x.host === y.host || wide(x.host) || wide(y.host));
}
