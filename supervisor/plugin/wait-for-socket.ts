// Waits until a plugin's Unix socket accepts connections, driven by inotify
// rather than polling, so readiness costs nothing while the plugin starts.
//
// A socket file exists from bind(2), but connections are refused until
// listen(2). go-shim changes the socket's mode after it listens, so that
// change (an inotify "change" event on the file) says it listens: nothing
// needs trying. A socket seen only to appear ("rename"), or there before
// the watch began, is tried with a plain connection, again every few
// milliseconds while refused, so the first gRPC call fails only for real
// reasons (TLS, identity), at once, with the reason intact.
//
// A socket that appears is tried only after a short pause, in which the
// change of its mode usually arrives: go-shim binds, listens and changes
// the mode within microseconds. A connection tried at once would reach the
// plugin ahead of the supervisor's real one, and the plugin would accept
// it and fail a TLS handshake on it first, in the middle of its start.
import { closeSync, watch } from "node:fs";
import { access } from "node:fs/promises";
import { connect } from "node:net";
import path from "node:path";
import { inodePath, NotASocket, openSocketInode } from "../socket-inode.ts";

const RETRY_MS = 5;
/** How long a socket seen to appear has to announce, by its mode, that it listens. */
const APPEARED_PAUSE_MS = 2;

export function waitForSocket(socket: string, signal: AbortSignal): Promise<void> {
  signal.throwIfAborted();
  const name = path.basename(socket);
  const watcher = watch(path.dirname(socket));
  return new Promise<void>((resolve, reject) => {
    let settled = false;
    let probing = false;
    let retry: NodeJS.Timeout | undefined;
    const finish = (err?: unknown) => {
      if (settled) return;
      settled = true;
      clearTimeout(retry);
      watcher.close();
      signal.removeEventListener("abort", onAbort);
      if (err === undefined) resolve();
      else reject(err);
    };
    const onAbort = () => finish(signal.reason);
    const probe = () => {
      if (probing || settled) return;
      // By its inode: the directory is the plugin's, which could put a
      // symlink to another socket of the host there (socket-inode.ts).
      let fd: number;
      try {
        fd = openSocketInode(socket);
      } catch (err) {
        // Another kind of file refuses connections as a socket bound but not yet listening does;
        // a symlink is refused at once.
        if ((err as NodeJS.ErrnoException).code === "ENOENT" || (err instanceof NotASocket && !err.symlink)) probeAfter(RETRY_MS);
        else finish(err);
        return;
      }
      probing = true;
      const attempt = connect(inodePath(fd));
      attempt.once("close", () => closeSync(fd));
      attempt.once("connect", () => {
        attempt.destroy();
        finish();
      });
      attempt.once("error", (err: NodeJS.ErrnoException) => {
        probing = false;
        // ECONNRESET: the listener closed under the connection, as go-shim's
        // early socket does when the plugin executes itself again before it
        // serves; the new process listens anew.
        if (err.code !== "ECONNREFUSED" && err.code !== "ENOENT" && err.code !== "ECONNRESET") finish(err);
        else probeAfter(RETRY_MS);
      });
    };
    const probeAfter = (ms: number) => {
      if (probing || settled || retry) return;
      retry = setTimeout(() => {
        retry = undefined;
        probe();
      }, ms);
    };
    signal.addEventListener("abort", onAbort, { once: true });
    watcher.on("error", finish);
    watcher.on("change", (event, changed) => {
      if (changed !== name) return;
      if (event === "change") finish(); // the mode, set once it listens
      else probeAfter(APPEARED_PAUSE_MS);
    });
    // The socket may have appeared before the watch began.
    access(socket).then(probe, () => {});
  });
}
