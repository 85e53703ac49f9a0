// The state, and its reason, an operator reads in `corralctl status` and `describe`.
import type { PluginStatus__Output } from "../../proto/gen/ts/corral/admin/v1/PluginStatus.ts";

/**
 * The plugin's lifecycle state, except when its CPU breaker is open: the
 * lifecycle is still `ready` (the instance is kept, to be resumed on
 * probation after the cool-down), but its processes are stopped and its calls
 * refused, and a STATE column reading `ready` would say the opposite. The
 * admin API keeps the two apart (`state`, `instance.cpu_breaker`); this is
 * only how they read together.
 */
export function shownState(p: Pick<PluginStatus__Output, "state" | "instance">): string {
  if (p.state === "ready" && p.instance?.cpuBreaker === "open") return "breaker-open";
  return p.state;
}

/** Why the plugin is in its shown state: the open breaker's reason, else the lifecycle's. */
export function shownReason(p: Pick<PluginStatus__Output, "reason" | "instance">): string {
  return p.instance?.cpuBreakerReason || p.reason;
}
