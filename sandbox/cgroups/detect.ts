// Finds out which cgroup version the host runs and where this process sits
// in it, from /proc/self/mountinfo and /proc/self/cgroup.
import { readFile } from "node:fs/promises";
import path from "node:path";

/** A v1 hierarchy holding one controller, and this process's cgroup in it. */
export interface V1Hierarchy {
  /** Where the hierarchy is mounted, e.g. /sys/fs/cgroup/memory. */
  mount: string;
  /** This process's cgroup directory, e.g. /sys/fs/cgroup/memory/process_api/abc. */
  own: string;
}

/**
 * "hybrid" is v1 with an (empty) v2 tree beside it: the v1 controllers are
 * the ones that limit, so it is driven like v1.
 */
export type CgroupLayout =
  | { mode: "v1" | "hybrid"; controllers: Partial<Record<string, V1Hierarchy>> }
  | { mode: "v2"; mount: string; own: string };

export interface DetectOptions {
  /** Where cgroupfs is mounted; default /sys/fs/cgroup. */
  root?: string;
  /** Contents of /proc/self/mountinfo (tests pass their own). */
  mountinfo?: string;
  /** Contents of /proc/self/cgroup (tests pass their own). */
  selfCgroup?: string;
}

const V1_CONTROLLERS = new Set([
  "blkio", "cpu", "cpuacct", "cpuset", "devices", "freezer", "hugetlb", "memory",
  "misc", "net_cls", "net_prio", "perf_event", "pids", "rdma",
]);

interface Mount {
  /** The mounted filesystem's directory that appears at the mount point. */
  root: string;
  mountPoint: string;
  fsType: string;
  superOptions: string[];
}

export async function detectCgroups(options: DetectOptions = {}): Promise<CgroupLayout> {
  const root = path.resolve(options.root ?? "/sys/fs/cgroup");
  const mounts = parseMountinfo(options.mountinfo ?? (await readFile("/proc/self/mountinfo", "utf8")));
  const membership = parseSelfCgroup(options.selfCgroup ?? (await readFile("/proc/self/cgroup", "utf8")));

  const atRoot = mounts.filter((m) => m.mountPoint === root).at(-1); // the last mount hides the others
  const below = mounts.filter((m) => m.mountPoint.startsWith(`${root}/`));
  if (atRoot?.fsType === "cgroup2") {
    const own = membership.get("");
    if (own === undefined) throw new Error("no cgroup v2 entry in /proc/self/cgroup");
    return { mode: "v2", mount: root, own: ownDirectory(atRoot, own) };
  }
  if (atRoot?.fsType !== "tmpfs") {
    throw new Error(`no cgroup filesystem at ${root} (found ${atRoot?.fsType ?? "nothing"})`);
  }
  const controllers: Partial<Record<string, V1Hierarchy>> = {};
  for (const m of below) {
    if (m.fsType !== "cgroup") continue;
    for (const controller of m.superOptions.filter((o) => V1_CONTROLLERS.has(o))) {
      const own = membership.get(controller);
      if (own === undefined || controllers[controller]) continue;
      controllers[controller] = { mount: m.mountPoint, own: ownDirectory(m, own) };
    }
  }
  return { mode: below.some((m) => m.fsType === "cgroup2") ? "hybrid" : "v1", controllers };
}

/** Where cgroupPath (as /proc/self/cgroup names it) lies beneath mount. */
function ownDirectory(mount: Mount, cgroupPath: string): string {
  // A mount of a subtree (root other than "/") shows that subtree at the
  // mount point; /proc/self/cgroup names paths from the hierarchy's root.
  let rel = cgroupPath;
  if (mount.root !== "/" && (rel === mount.root || rel.startsWith(`${mount.root}/`))) {
    rel = rel.slice(mount.root.length) || "/";
  }
  return path.resolve(mount.mountPoint, `.${rel}`);
}

export function parseMountinfo(text: string): Mount[] {
  const mounts: Mount[] = [];
  for (const line of text.split("\n")) {
    const dash = line.indexOf(" - ");
    if (dash === -1) continue;
    const fields = line.slice(0, dash).split(" ");
    const [fsType, , superOptions] = line.slice(dash + 3).split(" ");
    if (fields.length < 5 || fsType === undefined) continue;
    mounts.push({
      root: unescapeMountinfo(fields[3]!),
      mountPoint: unescapeMountinfo(fields[4]!),
      fsType,
      superOptions: (superOptions ?? "").split(","),
    });
  }
  return mounts;
}

/** Maps each controller (and "" for v2) to this process's cgroup path. */
export function parseSelfCgroup(text: string): Map<string, string> {
  const membership = new Map<string, string>();
  for (const line of text.split("\n")) {
    const match = /^\d+:([^:]*):(.*)$/.exec(line);
    if (!match) continue;
    const [, list, cgroupPath] = match;
    if (list === "") membership.set("", cgroupPath!);
    for (const controller of list!.split(",")) if (controller) membership.set(controller, cgroupPath!);
  }
  return membership;
}

/** mountinfo escapes space, tab, newline and backslash as octal. */
function unescapeMountinfo(field: string): string {
  return field.replace(/\\([0-7]{3})/g, (_, octal: string) => String.fromCharCode(parseInt(octal, 8)));
}
