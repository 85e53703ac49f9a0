// Connecting, as root, to the socket a stable address leads to. The
// address is the supervisor's own link; what it leads to is the data socket
// in an instance's directory, which belongs to the sandbox's uid. The
// plugin could put a symlink there in place of its socket, and root would
// follow it to any socket on the host (a daemon that trusts root's
// credentials, say) with a TCP client's bytes. So only the stable link is
// followed: its target is opened O_PATH|O_NOFOLLOW, must be a socket, and
// is connected to through /proc/self/fd, which names that very inode.
import { constants } from "node:fs";
import { open, readlink } from "node:fs/promises";
import net, { type Socket } from "node:net";
import path from "node:path";

/** open(2)'s O_PATH on Linux, which Node's fs.constants does not name. */
const O_PATH = 0o10000000;

/** What the link leads to is no socket: a plugin put something else in the place of its socket. */
export class NotASocket extends Error {
  constructor(message: string) {
    super(message);
    this.name = "NotASocket";
  }
}

/** Connects to the socket `link` points at, following no link but `link` itself. */
export async function connectThroughLink(link: string): Promise<Socket> {
  const target = path.resolve(path.dirname(link), await readlink(link));
  const handle = await open(target, O_PATH | constants.O_NOFOLLOW);
  try {
    const stat = await handle.stat();
    if (!stat.isSocket()) throw new NotASocket(`${target} is not a socket${stat.isSymbolicLink() ? " but a symlink" : ""}: not followed`);
    return await new Promise<Socket>((resolve, reject) => {
      const socket = net.connect(`/proc/self/fd/${handle.fd}`);
      socket.once("connect", () => {
        socket.off("error", reject);
        resolve(socket);
      });
      socket.once("error", reject);
    });
  } finally {
    await handle.close();
  }
}
