// A plugin's status as the admin API reports it.
import type { InstanceUsage } from "../../proto/gen/ts/corral/admin/v1/InstanceUsage.ts";
import type { PluginStatus } from "../../proto/gen/ts/corral/admin/v1/PluginStatus.ts";
import type { PluginController } from "../plugin/controller.ts";
import type { OperatorStop } from "../plugin/operator-stop.ts";
import type { Sample } from "../plugin/sampler.ts";
import { wallTime } from "../steady-clock.ts";

export function pluginStatus(parts: { controller: PluginController; address?: { path: string; tcpAddress: string | undefined } | undefined; operatorStop?: OperatorStop }): PluginStatus {
  const { controller: c, address } = parts;
  const instance = c.instance;
  // Stopped, and kept so across restarts: say so, and how to end it.
  const kept = c.state === "stopped" && parts.operatorStop?.at !== undefined;
  return {
    name: c.name,
    address: address?.path ?? "",
    tcpAddress: address?.tcpAddress ?? "",
    state: c.state,
    restarts: c.restarts,
    reason: kept ? parts.operatorStop!.reason(c.name) : c.reason,
    stateAgeMs: c.stateAgeMs,
    ...(instance && {
      instance: {
        id: instance.id,
        pid: instance.pid ?? 0,
        release: instance.release,
        pluginVersion: instance.pluginVersion ?? "",
        apiVersion: instance.apiVersion ?? "",
        ...(instance.usage && { usage: usageOf(instance.usage) }),
        ...(instance.cpuBreaker && { cpuBreaker: instance.cpuBreaker.state, cpuBreakerReason: instance.cpuBreaker.reason ?? "" }),
      },
    }),
  };
}

function usageOf(sample: Sample): InstanceUsage {
  const rt = sample.runtime;
  return {
    atUnixMs: Math.round(wallTime(sample.at).getTime()),
    cpuPercent: sample.cpuPercent,
    memoryBytes: sample.memoryBytes,
    openFds: sample.openFds,
    goroutines: rt?.goroutines ?? 0,
    heapSys: rt?.heapSys ?? 0,
    heapInuse: rt?.heapInuse ?? 0,
    heapAlloc: rt?.heapAlloc ?? 0,
    numGc: rt?.numGc ?? 0,
  };
}
