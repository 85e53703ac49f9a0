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
 * Whether two host:port addresses are known to take the same port of one
 * host address (the second listen failing with EADDRINUSE), for config
 * validation: the same port (not 0, which the kernel picks), and the same
 * host; or every host (:: on either; 0.0.0.0 beside an IPv4 address or a
 * name); or localhost beside 127.0.0.1. Two other names, or a name
 * and another address, are taken for different addresses: what they resolve
 * to is not known here, and refusing them would refuse configs that work.
 */
export function shareAPort(a: string, b: string): boolean {
  const [x, y] = [splitHostPort(a), splitHostPort(b)];
  if (x.port !== y.port || x.port === 0) return false;
  if (x.host === y.host) return true;
  const pair = (p: (h: string) => boolean, q: (h: string) => boolean) => (p(x.host) && q(y.host)) || (p(y.host) && q(x.host));
  const dualStackAny = (h: string) => h === "" || h === "::";
  const ipv4Any = (h: string) => h === "0.0.0.0";
  const notIPv6 = (h: string) => isIP(h) !== 6;
  // localhost is 127.0.0.1 on every host seen; ::1 only where it resolves so, other 127.x never.
  const localhost = (h: string) => h === "localhost";
  const ipv4Loopback = (h: string) => h === "127.0.0.1";
  return dualStackAny(x.host) || dualStackAny(y.host) || pair(ipv4Any, notIPv6) || pair(localhost, ipv4Loopback);
}

/**
 * Whether two host:port addresses may take the same port, for a listener
 * that moves: shareAPort, or a name on either side, which may resolve to
 * the other (the old listener then lets go first, as for a known overlap).
 */
export function mayShareAPort(a: string, b: string): boolean {
  const [x, y] = [splitHostPort(a), splitHostPort(b)];
  return shareAPort(a, b) || (x.port === y.port && x.port !== 0 && (isIP(x.host) === 0 || isIP(y.host) === 0));
}
