// How an instance ended, in words an operator can act on. The cgroup's
// counters decide an OOM kill (the kernel's SIGKILL alone could be anyone's),
// of an instance that ended by SIGKILL: a plugin that exited on its own after
// the kernel killed a child of it did not die of the OOM killer.
import type { CgroupEvents } from "../../sandbox/cgroups/driver.ts";
import { formatBytes } from "../config/units.ts";

export interface SandboxEnd {
  code?: number;
  signal?: string;
  /** The syscall seccomp refused, when it killed the plugin. */
  syscall?: string;
  error?: { stage: string; message: string };
}

export function describeExit(end: SandboxEnd, events: CgroupEvents | undefined, memoryLimit: number): string {
  if (end.error) return `sandbox setup failed at ${end.error.stage}: ${end.error.message}`;
  const oomKills = events?.oomKills ?? 0;
  if (oomKills > 0 && end.signal === "SIGKILL") return `killed by the kernel's OOM killer (memory limit ${formatBytes(memoryLimit)})`;
  const how = end.signal === "SIGSYS" && end.syscall ? `killed by SIGSYS: seccomp refused syscall ${end.syscall}` : end.signal ? `killed by ${end.signal}` : `exited with status ${end.code}`;
  return oomKills > 0 ? `${how}, after the kernel's OOM killer killed ${oomKills} of its processes (memory limit ${formatBytes(memoryLimit)})` : how;
}
