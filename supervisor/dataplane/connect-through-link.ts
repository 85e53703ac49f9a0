// Connecting, as root, to the socket a stable address leads to. The
// address is the supervisor's own link; what it leads to is an instance's
// data socket as published in the instances directory (published-socket.ts),
// which the plugin cannot replace. Should a link there ever lead into a
// directory of the plugin's, root would follow a symlink the plugin put in
// place of its socket to any socket on the host (a daemon that trusts
// root's credentials, say) with a TCP client's bytes. So only the stable
// link is followed: its target is opened by its inode (socket-inode.ts).
import { closeSync } from "node:fs";
import { readlink } from "node:fs/promises";
import net, { type Socket } from "node:net";
import path from "node:path";
import { inodePath, openSocketInode } from "../socket-inode.ts";

export { NotASocket } from "../socket-inode.ts";

/** Connects to the socket `link` points at, following no link but `link` itself. */
export async function connectThroughLink(link: string): Promise<Socket> {
  const target = path.resolve(path.dirname(link), await readlink(link));
  const fd = openSocketInode(target);
  try {
    return await new Promise<Socket>((resolve, reject) => {
      const socket = net.connect(inodePath(fd));
      socket.once("connect", () => {
        socket.off("error", reject);
        resolve(socket);
      });
      socket.once("error", reject);
    });
  } finally {
    closeSync(fd);
  }
}
