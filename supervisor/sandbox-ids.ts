// The sandboxes' host ids (sandbox.uidBase and uidCount; each sandbox's gid
// is its uid) must be no one else's. A sandbox's uid owns its user
// namespace (sandbox/cmd/corral-sandbox/owner.go), so a host process of that
// uid would have every capability in it; and the instance's files, its key
// among them, belong to that uid. A range holding a user or group of the
// host's account files is refused at start, naming them. (Accounts from
// elsewhere, LDAP say, are not seen: the range is the operator's to keep free.)
import { readFile } from "node:fs/promises";

export const HOST_ID_FILES = { users: "/etc/passwd", groups: "/etc/group" };

/** Throws, naming the fields and the account, if an id of base..base+count-1 is a user's or a group's. */
export async function checkSandboxIdsFree(base: number, count: number, files = HOST_ID_FILES): Promise<void> {
  const last = base + count - 1;
  for (const [kind, file] of [["user", files.users], ["group", files.groups]] as const) {
    const text = await readFile(file, "utf8").catch((err: NodeJS.ErrnoException) => {
      if (err.code === "ENOENT") return "";
      throw new Error(`sandbox.uidBase: cannot read ${file} to check the range is free: ${err.message}`);
    });
    for (const line of text.split("\n")) {
      // name:password:id:... in both files
      const [name, , field] = line.split(":");
      if (!name || field === undefined || !/^\d+$/.test(field)) continue;
      const id = Number(field);
      if (id < base || id > last) continue;
      throw new Error(
        `sandbox.uidBase ${base}, sandbox.uidCount ${count}: the sandboxes' ids ${base}-${last} include ${kind} "${name}" ` +
          `(${id} in ${file}), which a sandbox would share: choose a range that no user or group of the host has`,
      );
    }
  }
}
