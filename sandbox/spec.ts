// The launcher's contract (docs/internals.md): the spec it reads (on stdin,
// or the fd given with --spec-fd) and the events it writes on fd 3. sandbox/cmd/corral-sandbox/spec.go and
// events.go are the Go side.

/** What one sandbox runs and how it is confined. */
export interface SandboxSpec {
  /** Host path of the executable; bind-mounted read-only at /plugin. */
  binary: string;
  /** Arguments after argv[0] (/plugin). */
  args: string[];
  /** Exactly the plugin's environment; nothing is inherited. */
  env: Record<string, string>;
  /** Host directory bind-mounted read-write (nosuid,nodev,noexec) at /corral. */
  instanceDir: string;
  /**
   * /corral is a tmpfs of the sandbox's own instead (nosuid,nodev,noexec,
   * owned by its root), which no host process sees and which goes with the
   * sandbox; its files are charged to the sandbox's memory cgroup. For
   * `corral sandbox`: the runtime directory's file system is left alone.
   */
  privateInstanceDir?: boolean;
  hostname: string;
  /** Unprivileged host uid and gid that root inside maps to. */
  uid: number;
  gid: number;
  /** Size of the tmpfs workspace at /tmp. */
  workspaceBytes: number;
  /** cgroup.procs files the init's pid is written to before it runs anything. */
  cgroupProcs: string[];
  /** "none": a new network namespace with only lo; "host": the host's network (explicit opt-in). */
  network: "none" | "host";
  /** Host paths granted read-only, at the same path inside (e.g. libraries of a dynamic binary). */
  readOnlyPaths: string[];
  /** "null" for plugins; "inherit" hands the launcher's stdin through (corral sandbox). */
  stdin: "null" | "inherit";
  /** Resource limits of the plugin (soft = hard); RLIMIT_CORE is always 0. */
  rlimits: { nofile: number; nproc: number; fsizeBytes: number };
}

/** Exit status of the launcher when setting up the sandbox failed. */
export const SETUP_FAILED = 125;

export type SandboxEvent =
  | { type: "init"; pid: number }
  | { type: "started"; pid: number }
  | { type: "exited"; code: number }
  /** syscall: what the seccomp filter killed the plugin for (signal is then SIGSYS), when the kernel's log told. */
  | { type: "exited"; signal: string; syscall?: string }
  | { type: "error"; stage: string; message: string }
  /** The kernel's OOM killer acted in the instance's memory cgroup (cgroup v1: oomwatch.go). */
  | { type: "oom" };

export class EventParseError extends Error {
  override name = "EventParseError";
}

/** Parses and validates one line the launcher wrote on fd 3. */
export function parseEvent(line: string): SandboxEvent {
  let value: unknown;
  try {
    value = JSON.parse(line);
  } catch {
    throw new EventParseError(`launcher event is not JSON: ${JSON.stringify(line.slice(0, 200))}`);
  }
  if (typeof value !== "object" || value === null || Array.isArray(value)) {
    throw new EventParseError(`launcher event is not an object: ${line.slice(0, 200)}`);
  }
  const e = value as Record<string, unknown>;
  const fail = (why: string) => new EventParseError(`invalid launcher event (${why}): ${line.slice(0, 200)}`);
  switch (e.type) {
    case "init":
    case "started":
      if (!isPid(e.pid)) throw fail("pid");
      return { type: e.type, pid: e.pid };
    case "exited":
      if (isExitCode(e.code) && e.signal === undefined && e.syscall === undefined) return { type: "exited", code: e.code };
      if (typeof e.signal === "string" && /^SIG[A-Z0-9+-]+$/.test(e.signal) && e.code === undefined) {
        if (e.syscall === undefined) return { type: "exited", signal: e.signal };
        if (e.signal !== "SIGSYS" || typeof e.syscall !== "string" || !/^[a-z_][a-z0-9_]{0,63}$/.test(e.syscall)) {
          throw fail("syscall goes only with SIGSYS and is a syscall's name");
        }
        return { type: "exited", signal: e.signal, syscall: e.syscall };
      }
      throw fail("needs exactly one of code and signal");
    case "error":
      if (typeof e.stage !== "string" || typeof e.message !== "string") throw fail("stage and message");
      return { type: "error", stage: e.stage, message: e.message };
    case "oom":
      return { type: "oom" };
    default:
      throw fail("type");
  }
}

function isPid(v: unknown): v is number {
  return Number.isSafeInteger(v) && (v as number) > 0;
}

function isExitCode(v: unknown): v is number {
  return Number.isInteger(v) && (v as number) >= 0 && (v as number) <= 255;
}
