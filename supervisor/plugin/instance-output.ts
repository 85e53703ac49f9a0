// An instance's stdout and stderr, line by line, within the plugin's output
// limits: read no faster than output.maxBytesPerSecond, into the
// supervisor's log, tagged with plugin, instance and stream, and into the
// plugin's ring for `corralctl logs`. What the limits hold back is said, as
// a note of Corral's own: dropped lines once a second (and once more when
// the output ends), waits every 10 s.
import type { SandboxProcess } from "../../sandbox/launcher.ts";
import type { PluginConfig } from "../config/schema.ts";
import { formatBytes } from "../config/units.ts";
import { LINE_PACE_BYTES } from "../../sandbox/lines.ts";
import type { Logger } from "../log.ts";
import type { OutputCounts } from "../observe/output-counts.ts";
import { OutputLimiter } from "../observe/output-limiter.ts";
import type { OutputRing } from "../observe/output-ring.ts";
import { steadyNow } from "../steady-clock.ts";

export function forwardOutput(
  sandbox: SandboxProcess,
  to: { plugin: PluginConfig; instance: string; log: Logger; ring: OutputRing | undefined; counts?: OutputCounts | undefined },
): void {
  const { rate, burst, maxLineLength, maxBytesPerSecond } = to.plugin.output;
  // The limiter's bucket fills on the steady clock: a step back of the wall
  // clock would empty it for as long as the step. Lines keep wall-clock times.
  const limiter = new OutputLimiter({ ratePerSecond: rate, burst, maxLineBytes: maxLineLength }, steadyNow());
  const note = (line: string, at = Date.now()) => {
    to.log.warn({ stream: "corral" }, line);
    to.ring?.push({ at, plugin: to.plugin.name, instance: to.instance, stream: "corral", line });
  };
  // Lines are kept to maxLineLength as they are read: at least that many
  // bytes, which the limiter then cuts to the byte.
  sandbox.limitLineLength(maxLineLength);
  // Drops that no line follows are told by this timer, at most a second
  // after the first of them; once the output has ended, at once.
  let noteTimer: NodeJS.Timeout | undefined;
  const flushNote = (final: boolean) => {
    clearTimeout(noteTimer);
    noteTimer = undefined;
    const now = steadyNow();
    const due = limiter.flush(now, { final });
    if (due) note(due.line);
    const next = limiter.noteDueIn(now);
    if (next !== undefined && !final) noteTimer = setTimeout(() => flushNote(false), next);
  };
  void sandbox.exited.then(() => flushNote(true));
  const counts = to.counts;
  sandbox.onOutput((stream, line, cutBytes) => {
    const at = Date.now();
    const tick = steadyNow();
    let logged = false;
    for (const admitted of limiter.admit(line, tick, cutBytes)) {
      if (admitted.kind === "note") {
        note(admitted.line, at);
        continue;
      }
      logged = true;
      to.log.info({ stream }, admitted.line);
      to.ring?.push({ at, plugin: to.plugin.name, instance: to.instance, stream, line: admitted.line });
    }
    if (counts) counts[logged ? "logged" : "dropped"] += 1;
    if (!logged && noteTimer === undefined) noteTimer = setTimeout(() => flushNote(false), limiter.noteDueIn(tick) ?? 0);
  });
  let waited = 0;
  let notedAt = -Infinity;
  sandbox.paceOutput(maxBytesPerSecond, (ms) => {
    if (counts) counts.waitedMs += ms;
    waited += ms;
    const now = steadyNow();
    if (now - notedAt < WAIT_NOTE_EVERY_MS) return;
    note(
      `output over ${formatBytes(maxBytesPerSecond)}/s (each line counted ${LINE_PACE_BYTES} bytes more): reading it waited ${waited} ms${Number.isFinite(notedAt) ? ` in ${now - notedAt} ms` : ""}, and the plugin's writes with it`,
    );
    waited = 0;
    notedAt = now;
  });
}

/** How often a plugin whose output reading waits is told of, at most. */
const WAIT_NOTE_EVERY_MS = 10_000;

