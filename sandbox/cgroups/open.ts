import { detectCgroups, type CgroupLayout } from "./detect.ts";
import type { CgroupDriver } from "./driver.ts";
import { V1CgroupDriver } from "./v1.ts";

export interface CgroupConfig {
  /** The cgroup beneath the supervisor's own that holds the instances. */
  parent: string;
  /** Where cgroupfs is mounted; default /sys/fs/cgroup. */
  root?: string;
  /** A layout found already; detected from /proc/self if absent. */
  layout?: CgroupLayout;
}

/** The driver for the cgroup version this host runs. */
export async function openCgroupDriver(config: CgroupConfig): Promise<CgroupDriver> {
  const layout = config.layout ?? (await detectCgroups(config.root === undefined ? {} : { root: config.root }));
  if (layout.mode === "v2") throw new Error("cgroup v2 hosts are not supported yet");
  return new V1CgroupDriver({ controllers: layout.controllers, parent: config.parent });
}
