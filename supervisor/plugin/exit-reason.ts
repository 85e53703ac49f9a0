// How an instance ended, in words an operator can act on. The cgroup's
// counters decide an OOM kill (the kernel's SIGKILL alone could be anyone's).
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
  if (events && events.oomKills > 0) return `killed by the kernel's OOM killer (memory limit ${formatBytes(memoryLimit)})`;
  if (end.signal === "SIGSYS" && end.syscall) return `killed by SIGSYS: seccomp refused syscall ${end.syscall}`;
  if (end.signal) return `killed by ${end.signal}`;
  return `exited with status ${end.code}`;
}
