// Opens the driver for the cgroup version the host runs.
import { prepareV2Delegation } from "./delegation.ts";
import { detectCgroups, type CgroupLayout } from "./detect.ts";
import type { CgroupDriver } from "./driver.ts";
import type { CgroupFs } from "./fs.ts";
import { V1CgroupDriver } from "./v1.ts";
import { V2CgroupDriver } from "./v2.ts";

export interface CgroupConfig {
  /** The cgroup beneath the supervisor's own that holds the instances. */
  parent: string;
  /** Where cgroupfs is mounted; default /sys/fs/cgroup. */
  root?: string;
  /** A layout found already; detected from /proc/self if absent. */
  layout?: CgroupLayout;
  /** Tests pass a fake cgroupfs. */
  fs?: CgroupFs;
  /** On v2, the process moved into the supervisor's leaf; default this one. Tests pass another. */
  pid?: number;
}

/**
 * The driver for the cgroup version this host runs. On v2 this first moves
 * the supervisor into its leaf (delegation.ts), so call it before starting
 * processes that should stay beside it.
 */
export async function openCgroupDriver(config: CgroupConfig): Promise<CgroupDriver> {
  const layout = config.layout ?? (await detectCgroups(config.root === undefined ? {} : { root: config.root }));
  const fs = config.fs === undefined ? {} : { fs: config.fs };
  if (layout.mode === "v2") {
    const delegation = await prepareV2Delegation({ own: layout.own, ...fs, ...(config.pid === undefined ? {} : { pid: config.pid }) });
    return new V2CgroupDriver({ base: delegation.base, parent: config.parent, ...fs });
  }
  return new V1CgroupDriver({ controllers: layout.controllers, parent: config.parent, ...fs });
}
