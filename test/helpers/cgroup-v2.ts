// This process's own cgroup in a mounted cgroup v2 tree: on a v2 host the
// tree that limits, on a hybrid host the empty one beside the v1
// hierarchies (no controllers, but cgroup.procs, cgroup.kill, cgroup.freeze
// and cgroup.events work). Tests make their cgroups only beneath it.
import { readFile } from "node:fs/promises";
import { ownDirectory, parseMountinfo, parseSelfCgroup } from "../../sandbox/cgroups/detect.ts";

/** This process's v2 cgroup: its directory, and its path as /proc/<pid>/cgroup names it. */
export interface OwnV2Cgroup {
  dir: string;
  path: string;
}

/** This process's v2 cgroup, or undefined if no v2 tree is mounted. */
export async function ownV2Cgroup(): Promise<OwnV2Cgroup | undefined> {
  const own = parseSelfCgroup(await readFile("/proc/self/cgroup", "utf8")).get("");
  // The last cgroup2 mount hides the ones before it at the same point.
  const mount = parseMountinfo(await readFile("/proc/self/mountinfo", "utf8"))
    .filter((m) => m.fsType === "cgroup2")
    .at(-1);
  if (own === undefined || mount === undefined) return undefined;
  return { dir: ownDirectory(mount.root, mount.mountPoint, own), path: own };
}
