// What a stable address leads to: an instance's data socket, hard-linked
// into a directory of root's beside the instance directory (the instance's
// publishDataSocket: <id>.d/data.sock). Not the socket in the
// instance's own directory: that directory is the plugin's, which could
// put a symlink there in place of its socket, and every host application
// dialing the stable address, with any gRPC client, would follow it under
// its own uid to a socket of the plugin's choosing. A hard link names the
// socket's inode: what the plugin does in its directory afterwards changes
// nothing there. (connect(2) finds a Unix socket by its inode, so every
// link to it reaches the same listener.)
import { closeSync, fstatSync, linkSync, lstatSync, mkdirSync, renameSync, rmSync } from "node:fs";
import { randomBytes } from "node:crypto";
import path from "node:path";
import { NotASocket, openSocketInode } from "../socket-inode.ts";

/**
 * An instance's data socket as published: `<instance dir>.d/<socket's
 * name>`, in a directory of root's beside the instance directory (no
 * longer a path than the instance socket's, which the config's check of
 * socket paths covers). publish() makes the link anew each time: after a
 * park the plugin listens on a new socket. The directory stays until the
 * instance is gone, so a client's watch of the instance it reached
 * (client/instance-watch.ts, which looks for the directory of the socket
 * the address led to) sees a drain out: the instance removes it with its
 * own directory.
 */
export class PublishedSocket {
  /** What the stable address leads to. */
  readonly path: string;
  /** Its directory, root's. */
  readonly directory: string;
  readonly #socket: string;

  constructor(socket: string, instanceDir: string) {
    this.#socket = socket;
    this.directory = `${instanceDir}.d`;
    this.path = path.join(this.directory, path.basename(socket));
  }

  /** Links the socket as it is now; returns the path. Throws NotASocket when the plugin put something else there. */
  publish(): string {
    mkdirSync(this.directory, { recursive: true, mode: 0o711 });
    publishSocket(this.#socket, this.path);
    return this.path;
  }
}

/**
 * Hard-links the socket at `socket` (following no symlink) to `published`,
 * replacing what was there in one rename. Throws NotASocket when anything
 * but that socket is there, or was put there while it was being linked.
 */
export function publishSocket(socket: string, published: string): void {
  const fd = openSocketInode(socket);
  try {
    const checked = fstatSync(fd);
    const temp = `${published}.${randomBytes(4).toString("hex")}.tmp`;
    // link(2) does not follow a symlink at `socket` but links the symlink
    // itself: what was linked is checked to be the inode opened above.
    linkSync(socket, temp);
    try {
      const linked = lstatSync(temp);
      if (!linked.isSocket() || linked.ino !== checked.ino || linked.dev !== checked.dev) {
        throw new NotASocket(`${socket} was replaced while it was being published${linked.isSymbolicLink() ? ", by a symlink" : ""}: not followed`, linked.isSymbolicLink());
      }
      renameSync(temp, published);
    } catch (err) {
      rmSync(temp, { force: true });
      throw err;
    }
  } finally {
    closeSync(fd);
  }
}
