// cgroup v2's "no internal processes" rule: a cgroup that enables controllers
// for its children may hold no process itself (the root excepted). The
// supervisor starts in a cgroup delegated to it (systemd Delegate=yes, a
// container's cgroup) and is a process there; so before instance cgroups can
// be its children with limits, it moves itself into a leaf beside them:
//
//   <own>/                 controllers enabled in subtree_control
//   ├── supervisor/        the supervisor (and the launchers it starts later)
//   └── <parent>/          the instances' parent (v2.ts)
//       └── <instance>/
import path from "node:path";
import type { CgroupFs } from "./fs.ts";
import { nodeCgroupFs } from "./fs.ts";
import { ignoreMissing, parseProcs } from "./util.ts";
import { checkControllersAvailable, controllersEnabled, enableControllers } from "./v2.ts";
import { checkCgroupName } from "./driver.ts";

export const SUPERVISOR_LEAF = "supervisor";

export interface DelegationOptions {
  /** The supervisor's cgroup directory, from /proc/self/cgroup. */
  own: string;
  fs?: CgroupFs;
  /** The process to move: the supervisor itself. Tests pass another. */
  pid?: number;
  /** The leaf's name; default "supervisor". */
  leaf?: string;
}

export interface Delegation {
  /** The cgroup the instances' parent is made in: the supervisor's, before it moved. */
  base: string;
  /** The cgroup the supervisor runs in now. */
  leaf: string;
  /** Whether this call moved the supervisor. */
  moved: boolean;
}

/**
 * Makes <own> a node that can have instance cgroups with limits as
 * children: moves the supervisor (only it: no other process is ever moved)
 * into <own>/supervisor and enables memory, pids and cpu in
 * <own>/cgroup.subtree_control. Idempotent: a supervisor that already runs in
 * such a leaf (moved by an earlier call, or started there by a process that
 * was) gets that leaf's parent as its base. Refuses, changing nothing, if
 * <own> holds processes other than the supervisor.
 */
export async function prepareV2Delegation(options: DelegationOptions): Promise<Delegation> {
  const fs = options.fs ?? nodeCgroupFs;
  const pid = options.pid ?? process.pid;
  const leafName = checkCgroupName(options.leaf ?? SUPERVISOR_LEAF);
  const own = options.own;
  const unchanged = (base: string): Delegation => ({ base, leaf: own, moved: false });

  if (path.basename(own) === leafName && (await controllersEnabled(fs, path.dirname(own)))) return unchanged(path.dirname(own));
  // The true root has no cgroup.type and may hold processes and enable
  // controllers at once. (A cgroup namespace's root looks like "/" but is
  // not exempt, so the path alone does not tell.) Without systemd nothing
  // enables them there at boot, and no one can delegate the root: a
  // supervisor that has it enables them itself. (Where the root does not
  // have them, a v1 hierarchy holds them: the driver's create says so.)
  if (!(await fs.exists(path.join(own, "cgroup.type")))) {
    if (await checkControllersAvailable(fs, own).then(() => true, () => false)) await enableControllers(fs, own);
    return unchanged(own);
  }
  // Enabled already: the kernel then keeps processes out of own, so nothing to move.
  if (await controllersEnabled(fs, own)) return unchanged(own);

  // Checked before anything changes, so a refusal leaves the host as it was.
  await checkControllersAvailable(fs, own);
  const procs = parseProcs(await fs.readFile(path.join(own, "cgroup.procs")));
  const others = procs.filter((p) => p !== pid);
  if (others.length > 0) {
    throw new Error(
      `cgroup ${own} holds processes ${others.join(" ")} besides the supervisor (${pid}): ` +
        "instance cgroups cannot be made beside them; run the supervisor in a cgroup of its own (e.g. systemd Delegate=yes)",
    );
  }

  const leaf = path.join(own, leafName);
  const createdLeaf = await fs.mkdir(leaf).then(
    () => true,
    (err: NodeJS.ErrnoException) => {
      if (err.code === "EEXIST") return false; // an earlier supervisor's leaf, empty since it ended
      throw err;
    },
  );
  const moved = procs.includes(pid);
  try {
    if (moved) await fs.writeFile(path.join(leaf, "cgroup.procs"), String(pid));
    await enableControllers(fs, own);
  } catch (err) {
    // Back to how it was: own has no controllers enabled, so it may hold the supervisor again.
    if (moved) await fs.writeFile(path.join(own, "cgroup.procs"), String(pid)).catch(() => {});
    if (createdLeaf) await fs.rmdir(leaf).catch(ignoreMissing(undefined)).catch(() => {});
    throw err;
  }
  return { base: own, leaf, moved };
}
