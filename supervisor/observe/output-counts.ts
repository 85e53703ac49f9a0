// A plugin's output since the supervisor started, for the metrics: the
// lines logged, those dropped over output.rate, and how long reading its
// output waited over output.maxBytesPerSecond (its writes waited as long).
export class OutputCounts {
  logged = 0;
  dropped = 0;
  waitedMs = 0;
}
