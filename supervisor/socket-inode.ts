// Connecting, as root, to a Unix socket in a directory a plugin owns. The
// plugin could put a symlink there in place of its socket, and root would
// follow it to any socket on the host (a daemon that trusts root's
// credentials, say). So the socket is opened O_PATH|O_NOFOLLOW, must be a
// socket, and is connected to through /proc/self/fd, which names that very
// inode: nothing put there after the check is followed either.
import { closeSync, constants, fstatSync, openSync } from "node:fs";

/** open(2)'s O_PATH on Linux, which Node's fs.constants does not name. */
const O_PATH = 0o10000000;

/** What is there is no socket: a plugin put something else in the place of its socket. */
export class NotASocket extends Error {
  /** A symlink is there: put by the plugin, as nothing else makes one there. */
  readonly symlink: boolean;
  constructor(message: string, symlink: boolean) {
    super(message);
    this.name = "NotASocket";
    this.symlink = symlink;
  }
}

/**
 * Opens the socket at `file` by its inode, following no symlink (the
 * directories above it are to be root's); anything but a socket there is
 * refused with NotASocket. The caller closes the descriptor.
 */
export function openSocketInode(file: string): number {
  const fd = openSync(file, O_PATH | constants.O_NOFOLLOW);
  try {
    const stat = fstatSync(fd);
    if (!stat.isSocket()) throw new NotASocket(`${file} is not a socket${stat.isSymbolicLink() ? " but a symlink" : ""}: not followed`, stat.isSymbolicLink());
    return fd;
  } catch (err) {
    closeSync(fd);
    throw err;
  }
}

/** The path connect(2) takes for a descriptor of openSocketInode: the socket it was opened on, whatever is at its name now. */
export function inodePath(fd: number): string {
  return `/proc/self/fd/${fd}`;
}
