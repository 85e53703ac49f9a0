// Each connection to a plugin's stable address reaches one instance, through
// the address's link to that instance's data socket. When the instance's
// process dies, the kernel ends the connection, but Node does not always read
// that end: the HTTP/2 session holds the socket, and in 6 of 8 `kill -9`s of
// a plugin with callers (a Node client, 2 cores) no event came, and every
// call waited for the keepalive to give up, 2.2-3.4 s, some failing where
// the plugin had been back within 0.2 s. A Go client saw none of this.
//
// The supervisor removes a dead instance's directory, where its data socket
// is (as published for the address: in a directory of the supervisor's,
// <id>.d, beside the plugin's own <id>; or, from a supervisor before that,
// in the plugin's own), within milliseconds of the exit. So while
// connections are open, the directory of the data socket each reached is
// looked for every INSTANCE_CHECK_MS, and a connection whose instance
// directory is gone is closed: grpc-js reconnects at once, to whatever
// serves now. Not the socket file itself: a draining instance (a hot
// update's old one) closes its listener, which removes the plugin's own
// file, while its calls in flight finish; its directories stay until it
// exits.
import { existsSync, realpathSync } from "node:fs";
import path from "node:path";
import type { TLSSocket } from "node:tls";

/** How often the open connections' instance directories are looked for (a stat each, on tmpfs: microseconds). */
export const INSTANCE_CHECK_MS = 200;

const open = new Map<TLSSocket, string>();
let timer: NodeJS.Timeout | undefined;

/**
 * Keeps a connection made through `address` (a stable address: a link to
 * an instance's data socket) under watch until it closes, or until the
 * directory of the socket it reached is gone, when it is closed. (The
 * refusal server's directory stays while the supervisor runs: it closes
 * its connections itself.)
 */
export function watchInstance(connection: TLSSocket, address: string): void {
  let reached: string;
  try {
    // What the link names now: the instance connected to a moment ago,
    // unless the supervisor swapped it just then, when the one after it,
    // which outlives this connection's (a drain lasts at most stopTimeout).
    reached = path.dirname(realpathSync(address));
  } catch {
    return; // gone already: the connection fails of itself
  }
  open.set(connection, reached);
  timer ??= setInterval(check, INSTANCE_CHECK_MS).unref();
}

function check(): void {
  for (const [connection, instanceDir] of open) {
    if (connection.destroyed) open.delete(connection);
    else if (!existsSync(instanceDir)) {
      open.delete(connection);
      connection.destroy();
    }
  }
  if (open.size === 0) {
    clearInterval(timer);
    timer = undefined;
  }
}
