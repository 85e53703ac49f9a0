// The file system of the supervisor's instance directories,
// <runtimeDir>/instances: a tmpfs of Corral's own, nosuid, nodev and noexec,
// mounted by the launcher binary (`corral-sandbox instances-fs`; Node has
// no mount(2)). A plugin owns its instance directory and may write anything
// into it: on the runtime directory's own file system that filled the
// host's disk, and a setuid copy of the plugin's binary there made any host
// user who ran it the plugin's uid. On the tmpfs, a plugin's files are
// charged to its memory cgroup, and none runs with its owner's ids.
import { execFile } from "node:child_process";
import { promisify } from "node:util";

const run = promisify(execFile);

/** Mounts Corral's tmpfs at `dir` (absolute), unless it is there already (a killed supervisor's: reused). */
export function mountInstancesFs(launcherPath: string, dir: string): Promise<void> {
  return instancesFs(launcherPath, "mount", dir);
}

/** Unmounts Corral's tmpfs at `dir`, if it is there (and nothing else). */
export function unmountInstancesFs(launcherPath: string, dir: string): Promise<void> {
  return instancesFs(launcherPath, "unmount", dir);
}

async function instancesFs(launcherPath: string, verb: "mount" | "unmount", dir: string): Promise<void> {
  try {
    await run(launcherPath, ["instances-fs", verb, dir], { env: {} });
  } catch (err) {
    const stderr = String((err as { stderr?: unknown }).stderr ?? "").trim();
    throw new Error(stderr || (err as Error).message, { cause: err });
  }
}
