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

/**
 * What mounting found: Corral's tmpfs mounted now, or one left by a killed
 * supervisor reused; or, in a mount namespace whose mounts the host does
 * not see (systemd's PrivateTmp= and kin), none mounted (it would hide the
 * instance directories from host applications), and whether the runtime
 * directory's own file system is nosuid.
 */
export type InstancesFs = "mounted" | "reused" | "private nosuid" | "private suid";

/** Mounts Corral's tmpfs at `dir` (absolute), unless it is there already or would not be seen by the host. */
export async function mountInstancesFs(launcherPath: string, dir: string): Promise<InstancesFs> {
  const said = (await instancesFs(launcherPath, "mount", dir)).trim();
  if (said !== "mounted" && said !== "reused" && said !== "private nosuid" && said !== "private suid") throw new Error(`corral-sandbox instances-fs mount said ${JSON.stringify(said)}`);
  return said;
}

/** Unmounts Corral's tmpfs at `dir`, if it is there (and nothing else). */
export async function unmountInstancesFs(launcherPath: string, dir: string): Promise<void> {
  await instancesFs(launcherPath, "unmount", dir);
}

async function instancesFs(launcherPath: string, verb: "mount" | "unmount", dir: string): Promise<string> {
  try {
    return (await run(launcherPath, ["instances-fs", verb, dir], { env: {} })).stdout;
  } catch (err) {
    const stderr = String((err as { stderr?: unknown }).stderr ?? "").trim();
    throw new Error(stderr || (err as Error).message, { cause: err });
  }
}
