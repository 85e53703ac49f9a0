// Finds out which cgroup version the host runs, from the filesystem type at
// the cgroup mount point (statfs), and where this process sits in it, from
// /proc/self/mountinfo and /proc/self/cgroup.
import { readFile, statfs } from "node:fs/promises";
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
  /** statfs f_type of root (tests pass their own). */
  fsType?: number;
}

/** statfs f_type values (linux/magic.h). */
export const TMPFS_MAGIC = 0x01021994;
export const CGROUP2_SUPER_MAGIC = 0x63677270;
export const CGROUP_SUPER_MAGIC = 0x27e0eb;

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

  // The type of what is mounted at root decides, as systemd and runc do it:
  // cgroup2 is a pure v2 host; tmpfs holds v1 hierarchies (and, on a hybrid
  // host, an empty v2 tree that limits nothing).
  const fsType = options.fsType ?? (await statfs(root).catch((err: NodeJS.ErrnoException) => {
    throw new Error(`no cgroup filesystem at ${root} (${err.code ?? err.message})`);
  })).type;
  if (fsType === CGROUP2_SUPER_MAGIC) {
    const own = membership.get("");
    if (own === undefined) throw new Error("no cgroup v2 entry in /proc/self/cgroup");
    // A container may see a subtree mounted at root; the last mount hides the others.
    const mountRoot = mounts.filter((m) => m.mountPoint === root && m.fsType === "cgroup2").at(-1)?.root ?? "/";
    return { mode: "v2", mount: root, own: ownDirectory(mountRoot, root, own) };
  }
  if (fsType !== TMPFS_MAGIC) {
    const name = fsType === CGROUP_SUPER_MAGIC ? "a single cgroup v1 hierarchy" : `filesystem type 0x${fsType.toString(16)}`;
    throw new Error(`no cgroup filesystem at ${root} (found ${name})`);
  }
  const below = mounts.filter((m) => m.mountPoint.startsWith(`${root}/`));
  const controllers: Partial<Record<string, V1Hierarchy>> = {};
  for (const m of below) {
    if (m.fsType !== "cgroup") continue;
    for (const controller of m.superOptions.filter((o) => V1_CONTROLLERS.has(o))) {
      const own = membership.get(controller);
      if (own === undefined || controllers[controller]) continue;
      controllers[controller] = { mount: m.mountPoint, own: ownDirectory(m.root, m.mountPoint, own) };
    }
  }
  return { mode: below.some((m) => m.fsType === "cgroup2") ? "hybrid" : "v1", controllers };
}

/** Where cgroupPath (as /proc/self/cgroup names it) lies beneath mount. */
function ownDirectory(mountRoot: string, mountPoint: string, cgroupPath: string): string {
  // A mount of a subtree (root other than "/") shows that subtree at the
  // mount point; /proc/self/cgroup names paths from the hierarchy's root.
  let rel = cgroupPath;
  if (mountRoot !== "/" && (rel === mountRoot || rel.startsWith(`${mountRoot}/`))) {
    rel = rel.slice(mountRoot.length) || "/";
  }
  return path.resolve(mountPoint, `.${rel}`);
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
