// TCP addresses as config writes them and status shows them: host:port,
// an IPv6 host in brackets ([::1]:7443).
import type { AddressInfo } from "node:net";

/** The host (brackets removed) and port of `hostPort`. */
export function splitHostPort(hostPort: string): { host: string; port: number } {
  const colon = hostPort.lastIndexOf(":");
  return { host: hostPort.slice(0, colon).replace(/^\[(.*)\]$/, "$1"), port: Number(hostPort.slice(colon + 1)) };
}

/** A bound listener's address as host:port. */
export function joinHostPort(bound: AddressInfo): string {
  return `${bound.family === "IPv6" ? `[${bound.address}]` : bound.address}:${bound.port}`;
}
