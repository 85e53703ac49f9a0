// The rules for a sandbox's read-only grants, as the launcher enforces them
// (sandbox/cmd/corral-sandbox/spec.go, checkGrants): checked here too, so
// that a config breaking them is refused by `corral validate` and a reload,
// naming the field, instead of passing and then failing every start.

/** The sandbox's own mounts: a grant at, above or below one would hide it or be hidden by it. */
export const RESERVED_PATHS = ["/plugin", "/corral", "/tmp", "/proc", "/dev"] as const;
export const MAX_GRANTS = 64;

/** What is wrong with grants[i] among `grants`, or undefined. */
export function grantProblem(grants: readonly string[], i: number): string | undefined {
  const p = grants[i]!;
  if (i >= MAX_GRANTS) return `at most ${MAX_GRANTS} entries`;
  for (const r of RESERVED_PATHS) if (overlaps(p, r)) return `${p} overlaps the sandbox's ${r}`;
  const earlier = grants.slice(0, i).find((q) => overlaps(p, q));
  if (earlier !== undefined) return `${p} overlaps ${earlier}, granted before it: one grant holds the other`;
  return undefined;
}

/** Whether one of two clean absolute paths is the other or lies beneath it. */
function overlaps(a: string, b: string): boolean {
  return a === b || a.startsWith(`${b}/`) || b.startsWith(`${a}/`);
}

/**
 * Why a grant may not overlap Corral's own directories: read-only stops
 * writes to files, not a connect(2) to a socket or a write into a FIFO, and
 * the runtime directory holds every plugin's sockets, the admin socket and
 * the uid locks; the state directory, the CA and the releases.
 */
export function corralDirProblem(grant: string, dirs: { runtimeDir: string; stateDir: string }): string | undefined {
  if (overlaps(grant, dirs.runtimeDir)) return `${grant} overlaps runtimeDir ${dirs.runtimeDir}, where every plugin's sockets and the admin socket are: a read-only grant does not stop a connect(2) to a socket`;
  if (overlaps(grant, dirs.stateDir)) return `${grant} overlaps stateDir ${dirs.stateDir}, Corral's CA, releases and diagnostics`;
  return undefined;
}

/** Host directories of system IPC endpoints (sockets, FIFOs), which a read-only grant passes through. */
export const IPC_DIRS = ["/run", "/var/run", "/dev/shm"] as const;

/**
 * The grants of `grants` that are, contain or lie in a directory of the
 * host's IPC endpoints (IPC_DIRS): a plugin can connect to a Unix socket
 * there, or write into a FIFO, read-only and without a network of its own
 * all the same (the system bus, resolved's varlink socket, the journal).
 */
export function ipcGrants(grants: readonly string[]): string[] {
  return grants.filter((g) => IPC_DIRS.some((d) => overlaps(g, d)));
}

/** Says so when a plugin's grants pass host IPC endpoints through (ipcGrants): at its add and at a reload. */
export function warnOfIpcGrants(plugin: { name: string; readOnlyPaths: readonly string[] }, log: { warn(o: object, msg: string): void }): void {
  const ipc = ipcGrants(plugin.readOnlyPaths);
  if (ipc.length === 0) return;
  log.warn(
    { plugin: plugin.name, readOnlyPaths: ipc },
    `readOnlyPaths ${ipc.join(", ")} are, hold or lie in a directory of the host's IPC endpoints: read-only does not stop a connect(2) to a Unix socket or a write into a FIFO there, network "none" or not; grant the files the plugin needs rather than their directory`,
  );
}
