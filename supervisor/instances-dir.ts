// <runtimeDir>/instances, where every instance has its directory: what a
// previous supervisor left there swept, then the tmpfs of Corral's that
// holds them (sandbox/instances-fs.ts) mounted, or reused, where the host
// would see it; unmounted at the stop.
import { readdir } from "node:fs/promises";
import path from "node:path";
import { mountInstancesFs, unmountInstancesFs } from "../sandbox/instances-fs.ts";
import type { Logger } from "./log.ts";
import { removeTrees } from "./remove-tree.ts";

/**
 * Sweeps `dir` and mounts its tmpfs. Only once no other live supervisor
 * shares the runtime directory (the caller holds its admin socket).
 * Returns the instance directories a previous supervisor left, and what
 * unmounts the tmpfs.
 */
export async function openInstancesDir(dir: string, launcherPath: string, log: Logger): Promise<{ leftovers: string[]; unmount: () => Promise<void> }> {
  const absolute = path.resolve(dir);
  // Before the mount: what an older supervisor left on the runtime
  // directory's own file system would be hidden under it.
  const leftovers = await readdir(absolute);
  // Not fatal: a supervisor that cannot start serves no plugin at all.
  for (const { dir: left, err } of await removeTrees(leftovers.map((d) => path.join(absolute, d)))) {
    log.error({ err: err.message, dir: left }, "a previous supervisor's instance directory not removed");
  }
  const mounted = await mountInstancesFs(launcherPath, absolute);
  if (mounted === "private suid") {
    log.warn(
      { dir },
      "the instance directories are on a file system without nosuid, in a mount namespace of the supervisor's own (systemd's PrivateTmp= and kin), where a tmpfs of Corral's would be hidden from host applications: a plugin could leave a setuid file there, and fill that file system; mount Corral's tmpfs there from the host's namespace before the start (deploy/corral.service's ExecStartPre), or put runtimeDir on a tmpfs the host sees",
    );
  } else if (mounted === "private nosuid") {
    log.warn(
      { dir },
      "the instance directories are on the runtime directory's own file system, in a mount namespace of the supervisor's own (systemd's PrivateTmp= and kin), where a tmpfs of Corral's would be hidden from host applications: plugins' files there are bounded by that file system alone, which they could fill for the whole host; mount Corral's tmpfs there from the host's namespace before the start (deploy/corral.service's ExecStartPre)",
    );
  }
  return { leftovers, unmount: () => unmountInstancesFs(launcherPath, absolute) };
}
