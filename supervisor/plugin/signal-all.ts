// Signals every process of an instance: the pids come from its cgroup, so a
// process the plugin forked is not missed, and nothing outside it is hit.
import type { InstanceCgroup } from "../../sandbox/cgroups/driver.ts";

/** Sends `signal` to every process in `cgroup`; resolves with the pids signalled. */
export async function signalAll(cgroup: InstanceCgroup, signal: "SIGSTOP" | "SIGCONT"): Promise<number[]> {
  const pids = await cgroup.pids().catch(() => [] as number[]);
  for (const pid of pids) {
    try {
      process.kill(pid, signal);
    } catch {
      // gone meanwhile
    }
  }
  return pids;
}
