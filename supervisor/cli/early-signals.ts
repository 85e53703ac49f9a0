// Signals that arrive while the daemon's modules load (about a second:
// the whole supervisor is read and its TypeScript stripped) are held here,
// for the command that then runs to handle as its own. Node's default
// handling would otherwise apply: a SIGHUP (systemd's reload) would end the
// daemon without a word, and a SIGTERM skip the drain of the plugins a
// start had begun.
//
// SIGUSR1 is ignored for good: by default it opens Node's inspector, on
// 127.0.0.1:9229 without authentication, which would give any local user
// (or a plugin with host networking) code execution as the supervisor,
// root. bin/corral also runs Node with --disable-sigusr1.
const HELD = ["SIGHUP", "SIGINT", "SIGTERM"] as const;

const held: NodeJS.Signals[] = [];
const hold = (signal: NodeJS.Signals) => void held.push(signal);
for (const signal of HELD) process.on(signal, hold);
process.on("SIGUSR1", () => {});

/** Stops holding signals; returns those held, in order, for the caller's own handlers. */
export function releaseEarlySignals(): NodeJS.Signals[] {
  for (const signal of HELD) process.off(signal, hold);
  return held.splice(0);
}

/** Stops holding signals, and acts on the first one held as Node's default would: the process ends by it. */
export function raiseEarlySignals(): void {
  const [first] = releaseEarlySignals();
  if (first) process.kill(process.pid, first);
}
