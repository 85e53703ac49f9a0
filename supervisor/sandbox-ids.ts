// The sandboxes' host ids (sandbox.uidBase and uidCount; each sandbox's gid
// is its uid) must be no one else's. A sandbox's uid owns its user
// namespace (sandbox/cmd/corral-sandbox/owner.go), so a host process of that
// uid would have every capability in it; and the instance's files, its key
// among them, belong to that uid. A user's subordinate ids are as good as
// its own: newuidmap lets it run processes as them in its user namespaces.
// A range holding a user or group of the host's account files, or
// overlapping a subordinate range, makes the config invalid (config/load.ts),
// naming them.
// (Accounts from elsewhere, LDAP say, are not seen: the range is the
// operator's to keep free.)
import { readFileSync } from "node:fs";

export const HOST_ID_FILES = { users: "/etc/passwd", groups: "/etc/group", subuids: "/etc/subuid", subgids: "/etc/subgid" };

/** Why base..base+count-1 cannot be the sandboxes' ids, or undefined when no one has them. */
export function sandboxIdsTaken(base: number, count: number, files = HOST_ID_FILES): string | undefined {
  const last = base + count - 1;
  const taken = (what: string) =>
    `the sandboxes' ids ${base}-${last} include ${what}, which a sandbox would share: choose a range that no user, group or subordinate range of the host has`;
  try {
    for (const [kind, file] of [["user", files.users], ["group", files.groups]] as const) {
      for (const [name, , field] of records(file)) {
        // name:password:id:... in both files
        if (!name || field === undefined || !/^\d+$/.test(field)) continue;
        const id = Number(field);
        if (id >= base && id <= last) return taken(`${kind} "${name}" (${id} in ${file})`);
      }
    }
    for (const file of [files.subuids, files.subgids]) {
      for (const [owner, start, length] of records(file)) {
        // owner:first:count
        if (!owner || !/^\d+$/.test(start ?? "") || !/^\d+$/.test(length ?? "")) continue;
        const [first, end] = [Number(start), Number(start) + Number(length) - 1];
        if (first <= last && end >= base) return taken(`ids subordinate to "${owner}" (${first}-${end} in ${file}), which it may run processes as`);
      }
    }
  } catch (err) {
    return (err as Error).message;
  }
  return undefined;
}

/** The colon-separated records of an account file; none if it does not exist. */
function records(file: string): string[][] {
  let text: string;
  try {
    text = readFileSync(file, "utf8");
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === "ENOENT") return [];
    throw new Error(`cannot read ${file} to check the range is free: ${(err as Error).message}`, { cause: err });
  }
  return text.split("\n").map((line) => line.split(":"));
}
