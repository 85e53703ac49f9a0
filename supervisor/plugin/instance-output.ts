// An instance's stdout and stderr, line by line, within the plugin's output
// limits: into the supervisor's log, tagged with plugin, instance and
// stream, and into the plugin's ring for `corralctl logs`. What the limits
// hold back is said once, as a note of Corral's own.
import type { SandboxProcess } from "../../sandbox/launcher.ts";
import type { PluginConfig } from "../config/schema.ts";
import type { Logger } from "../log.ts";
import { OutputLimiter } from "../observe/output-limiter.ts";
import type { OutputRing } from "../observe/output-ring.ts";

export function forwardOutput(
  sandbox: SandboxProcess,
  to: { plugin: PluginConfig; instance: string; log: Logger; ring: OutputRing | undefined },
): void {
  const { rate, burst, maxLineLength } = to.plugin.output;
  const limiter = new OutputLimiter({ ratePerSecond: rate, burst, maxLineBytes: maxLineLength }, Date.now());
  sandbox.onOutput((stream, line) => {
    const at = Date.now();
    for (const admitted of limiter.admit(line, at)) {
      const note = admitted.kind === "note";
      if (note) to.log.warn({ stream: "corral" }, admitted.line);
      else to.log.info({ stream }, admitted.line);
      to.ring?.push({ at, plugin: to.plugin.name, instance: to.instance, stream: note ? "corral" : stream, line: admitted.line });
    }
  });
}
