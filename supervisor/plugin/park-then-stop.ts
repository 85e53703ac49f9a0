// Taking an instance out of service and stopping it, as the CPU breaker and
// an operator's pause both do: its calls are parked first (the stable
// address held, GOAWAY to its connections, a grace for calls in flight),
// then every process of it gets SIGSTOP, checked in /proc (signal-all.ts:
// stopAll).
//
// The park, its grace and the SIGSTOP are made with the instance's CPU
// limit lifted. A plugin spinning at its limit is throttled by CFS for most
// of each period: it would answer Park, and take the SIGSTOP (a signal acts
// only when its process next runs), only when its quota comes round again,
// each up to a period later. At half a core, the CPU breaker's stop came a
// median 113 ms after its trip sample (max 154), 60 ms of it the grace;
// lifted, 65.5 ms (max 90), for a few milliseconds of unlimited CPU. Through
// the grace too: go-shim's own timer closes the connections at its end,
// and, throttled, fired after the SIGSTOP about once in ten trips, leaving
// clients on connections to a stopped process until their deadlines. So
// go-shim is also asked to answer Park only once they are closed
// (answer_when_closed); one too old to say so has the grace waited out.
import type { InstanceCgroup } from "../../sandbox/cgroups/driver.ts";
import type { Logger } from "../log.ts";
import { stopAll } from "./signal-all.ts";

export interface ParkThenStop {
  cgroup: InstanceCgroup;
  /** The instance's CPU limit in cores, as its cgroup has it (Infinity: none to lift). */
  cpuCores: number;
  log: Logger;
  /**
   * Moves calls away, giving those in flight `graceMs`; resolves with true
   * once the plugin has closed every connection of its data socket, false
   * when it only says it has begun. A failure is logged and the stop goes on.
   */
  park(graceMs: number): Promise<boolean>;
  /** What calls in flight get between the park and the stop. */
  graceMs: number;
  /** Asked after the grace: true when the stop is no longer wanted (the instance is going away). */
  cancelled?(): boolean;
  /** Called just before the processes are signalled: from then on they are to be continued. */
  signalled(): void;
}

/** Parks, waits out the grace, stops; resolves with what was stopped, or undefined when cancelled. */
export async function parkThenStop(o: ParkThenStop): Promise<{ processes: number; verified: boolean } | undefined> {
  return withCpuLifted(o, async () => {
    const closed = await o.park(o.graceMs).catch((err: Error) => {
      o.log.warn({ err: err.message }, "parking the data socket failed");
      return false;
    });
    if (!closed) await new Promise((r) => setTimeout(r, o.graceMs));
    if (o.cancelled?.()) return undefined;
    o.signalled(); // from now on they are to be continued, whatever the stop finds
    const { pids, verified } = await stopAll(o.cgroup);
    return { processes: pids.length, verified };
  });
}

/** Runs `step` with the CPU limit lifted, and puts it back after. */
async function withCpuLifted<T>(o: Pick<ParkThenStop, "cgroup" | "cpuCores" | "log">, step: () => Promise<T>): Promise<T> {
  if (o.cpuCores === Infinity) return step();
  await o.cgroup.setCpu(Infinity).catch((err: Error) => o.log.warn({ err: err.message }, "lifting the cpu limit for the stop failed"));
  try {
    return await step();
  } finally {
    await o.cgroup.setCpu(o.cpuCores).catch((err: Error) => o.log.error({ err: err.message }, "restoring the cpu limit after the stop failed"));
  }
}
