// The supervisor's clock for intervals, windows and timeouts: monotonic
// milliseconds, on the Unix epoch's scale as of the supervisor's start (so
// a value still reads as a time of day). The wall clock can step (NTP's
// makestep at boot, `date -s`): a step back stalled the CPU breaker, which
// ignores a sample not later than the last, for as long as the step; a step
// forward ended a cool-down at once. A steady time is shown to people with
// wallTime(), which reads it on today's wall clock.
import { performance } from "node:perf_hooks";

/** Whole milliseconds, as Date.now() gives. */
export function steadyNow(): number {
  return Math.round(performance.timeOrigin + performance.now());
}

/** The wall-clock time a steady time `steady` is (or was, or will be). */
export function wallTime(steady: number): Date {
  return new Date(Date.now() + (steady - steadyNow()));
}
