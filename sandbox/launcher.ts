// Starts the sandbox launcher (corral-sandbox run) for one spec and follows it
// through its events (docs/internals.md) until it is gone.
import { spawn, type ChildProcess, type StdioOptions } from "node:child_process";
import { existsSync } from "node:fs";
import path from "node:path";
import { Readable, Writable } from "node:stream";
import { DEFAULT_MAX_LINE_LENGTH, forEachLine } from "./lines.ts";
import { OutputPace } from "./output-pace.ts";
import { parseEvent, SETUP_FAILED, type SandboxEvent, type SandboxSpec } from "./spec.ts";

export interface LaunchOptions {
  /** Path of the corral-sandbox binary. */
  launcherPath: string;
  /**
   * The spec's uid and gid, known before the rest of the spec. With them the
   * launcher clones the sandbox's init with them mapped. Without, it clones it
   * at once all the same, maps the spec's once it has it, and the init moves
   * itself into the spec's cgroups; either way the namespaces come up while
   * the spec (a promise) is still being prepared.
   */
  ids?: { uid: number; gid: number };
  /**
   * Without ids: the spec's uid and gid all the same, which own the
   * sandbox's user namespace, made before the spec (the kernel charges what
   * a sandbox makes, inotify instances and the like, to that owner: its own
   * uid, not root). Taken from the spec when it is not a promise; without
   * it the launcher makes them only once it has the spec. A promise: the
   * launcher starts while the ids are claimed, and makes the namespaces as
   * soon as they are sent (on a pipe of their own, --owner-fd); the launcher
   * checks them against the spec's. Resolving to undefined (or rejecting)
   * sends none: the launcher makes them once it has the spec.
   */
  owner?: { uid: number; gid: number } | Promise<{ uid: number; gid: number } | undefined>;
  /**
   * With ids: cgroup.procs files to put the early init in at once (a warm
   * launcher's cgroup), so no placement is left for when the spec comes.
   * The spec must then name the same files.
   */
  cgroupProcs?: string[];
  /**
   * "pipe" (default): the plugin's stdout and stderr come to onOutput
   * listeners, the spec goes on the launcher's stdin. "inherit": the
   * launcher, and so the plugin, gets this process's stdin, stdout and
   * stderr (for `corral sandbox`; a spec with stdin "inherit" passes stdin
   * on to the plugin); the spec goes on fd 4 (--spec-fd 4) and onOutput sees
   * nothing. Events are on fd 3 either way.
   */
  stdio?: "pipe" | "inherit";
}

export type OutputStream = "stdout" | "stderr";
/** A line of the plugin's output; cutBytes is how much of it was thrown away past the sandbox's line limit. */
export type OutputListener = (stream: OutputStream, line: string, cutBytes: number) => void;

/** How a sandbox ended: the plugin's exit code or signal, or why setup failed. */
export interface SandboxExit {
  code?: number;
  signal?: string;
  /** With signal SIGSYS: the syscall the seccomp filter killed the plugin for, when the kernel's log told. */
  syscall?: string;
  /** Set when the sandbox could not be set up; code is then 125. */
  error?: { stage: string; message: string };
}

/** The sandbox could not be set up; stage names the step that failed. */
export class SandboxSetupError extends Error {
  override name = "SandboxSetupError";
  readonly stage: string;
  constructor(stage: string, message: string) {
    super(`sandbox setup failed at ${stage}: ${message}`);
    this.stage = stage;
  }
}

export interface SandboxProcess {
  /** Host pid of the launcher; undefined if it could not be spawned. */
  readonly pid: number | undefined;
  /** The init is in its cgroups; pid is its host pid. */
  readonly init: Promise<{ pid: number }>;
  /** The plugin runs; pid is its host pid. Rejects with SandboxSetupError. */
  readonly started: Promise<{ pid: number }>;
  /**
   * Resolves, never rejects, once the sandbox and the launcher's output are
   * gone: the launcher has exited, or it has reported the end and closed its
   * output, which it does once nothing of the sandbox is left.
   */
  readonly exited: Promise<SandboxExit>;
  /**
   * Resolves, never rejects, when the plugin has exited or the setup failed:
   * the sandbox is on its way out (the init and what is left of its
   * processes may still be going), before `exited`.
   */
  readonly ended: Promise<void>;
  /**
   * Calls listener for each line the plugin writes. Lines written before a
   * listener is added are dropped, so add it right after launching. With
   * stdio "inherit" the output goes straight to this process's and no
   * listener is called. Returns a function that removes the listener.
   */
  onOutput(listener: OutputListener): () => void;
  /**
   * Calls listener whenever the kernel's OOM killer acts in the sandbox's
   * memory cgroup, on cgroup v1 (where it kills one process, which may leave
   * the plugin running); never on v2. The kill count is the cgroup's to tell.
   * Returns a function that removes the listener.
   */
  onOom(listener: () => void): () => void;
  /** Signals the launcher, which forwards SIGTERM and SIGINT to the plugin. False if it is gone. */
  signal(signal: NodeJS.Signals): boolean;
  /** SIGKILLs the launcher; the whole sandbox goes with it. False if it is gone. */
  kill(): boolean;
  /**
   * Reads the plugin's stdout and stderr together no faster than
   * bytesPerSecond (sandbox/output-pace.ts): over it, the plugin's writes
   * wait. onWait hears of each wait. Not paced until called; once the plugin
   * has ended, what it left is read at once.
   */
  paceOutput(bytesPerSecond: number, onWait?: (ms: number) => void): void;
  /**
   * Keeps at most the first maxLength UTF-16 units of each line of the
   * plugin's output from now on (64 Ki until called): the rest of a longer
   * line is thrown away as it is read, and counted (OutputListener).
   */
  limitLineLength(maxLength: number): void;
}

/** Env var the launcher checks its parent pid against (launcher.go). */
const PARENT_PID_ENV = "CORRAL_SANDBOX_PARENT_PID";
/** Env var that makes the launcher trace its steps to stderr (trace.go); passed on when set. */
const TRACE_ENV = "CORRAL_SANDBOX_TRACE";

type StdioArray = Extract<StdioOptions, unknown[]>;

// stdin takes the spec, stdout and stderr are the plugin's, fd 3 the events.
const PIPED_STDIO: StdioArray = ["pipe", "pipe", "pipe", "pipe"];

// stdin, stdout and stderr are this process's, fd 3 the events, fd 4 the spec.
const INHERITED_STDIO: StdioArray = ["inherit", "inherit", "inherit", "pipe", "pipe"];
const INHERITED_SPEC_FD = 4;

// Launchers still running when this process exits are killed (the launcher
// also dies with its parent by its parent-death signal; this covers an exit
// before it has set that up). Spawned with node:child_process directly, not
// through a wrapper: a launcher is spawned on every sandbox start's path.
const running = new Set<ChildProcess>();
let exitHookInstalled = false;
function killOnExit(child: ChildProcess): void {
  if (!exitHookInstalled) {
    exitHookInstalled = true;
    process.on("exit", () => {
      for (const c of running) c.kill("SIGKILL");
    });
  }
  running.add(child);
}

/** The init's binary beside a launcher, which also serves as its front; undefined if there is none. */
const fronts = new Map<string, string | undefined>();
function frontOf(launcherPath: string): string | undefined {
  if (!fronts.has(launcherPath)) {
    const front = path.join(path.dirname(launcherPath), "corral-sandbox-init");
    fronts.set(launcherPath, existsSync(front) ? front : undefined);
  }
  return fronts.get(launcherPath);
}

/**
 * Starts a sandbox. `spec` may still be in preparation (a promise): the
 * launcher waits for it on stdin. If it rejects, the launcher is killed and
 * `exited` reports the reason as a setup failure at stage "prepare".
 */
export function launchSandbox(spec: SandboxSpec | Promise<SandboxSpec>, options: LaunchOptions): SandboxProcess {
  return new Launcher(spec, options);
}

/**
 * Where the launcher is, as told by its events. Each phase accepts only the
 * next event of the contract; the promises settle on the transitions.
 */
type Phase =
  | { name: "launching" }
  | { name: "init" }
  | { name: "running" }
  | { name: "ended"; exit: SandboxExit } // the plugin exited or setup failed; the launcher is finishing
  | { name: "gone"; exit: SandboxExit };

class Launcher implements SandboxProcess {
  readonly init: Promise<{ pid: number }>;
  readonly started: Promise<{ pid: number }>;
  readonly exited: Promise<SandboxExit>;
  readonly ended: Promise<void>;
  readonly #init = Promise.withResolvers<{ pid: number }>();
  readonly #started = Promise.withResolvers<{ pid: number }>();
  readonly #exited = Promise.withResolvers<SandboxExit>();
  readonly #ended = Promise.withResolvers<void>();
  readonly #listeners = new Set<OutputListener>();
  readonly #oomListeners = new Set<() => void>();
  readonly #pace = new OutputPace();
  readonly #lineLimit = { maxLength: DEFAULT_MAX_LINE_LENGTH };
  readonly #child: ChildProcess;
  #phase: Phase = { name: "launching" };

  constructor(spec: SandboxSpec | Promise<SandboxSpec>, options: LaunchOptions) {
    this.init = this.#init.promise;
    this.started = this.#started.promise;
    this.exited = this.#exited.promise;
    this.ended = this.#ended.promise;
    // Callers that only await exited must not get unhandled rejections.
    this.init.catch(() => {});
    this.started.catch(() => {});

    const args = ["run"];
    const owner = options.owner ?? (spec instanceof Promise ? undefined : { uid: spec.uid, gid: spec.gid });
    const inherit = options.stdio === "inherit";
    let stdio = inherit ? INHERITED_STDIO : PIPED_STDIO;
    // The owner's pipe comes after the launcher's own fds.
    const ownerFd = !options.ids && owner instanceof Promise ? stdio.length : undefined;
    if (options.ids) args.push("--ids", `${options.ids.uid}:${options.ids.gid}`);
    else if (ownerFd !== undefined) {
      args.push("--owner-fd", String(ownerFd));
      stdio = [...stdio, "pipe"];
    } else if (owner && !(owner instanceof Promise)) args.push("--owner", `${owner.uid}:${owner.gid}`);
    if (options.ids && options.cgroupProcs?.length) args.push("--cgroups", options.cgroupProcs.join(","));
    const env: Record<string, string> = { [PARENT_PID_ENV]: String(process.pid) };
    // Profiling: the launcher and init print when they reach each step.
    if (process.env[TRACE_ENV]) env[TRACE_ENV] = process.env[TRACE_ENV];
    let specSink: Writable;
    const streams: Promise<void>[] = [];
    if (inherit) args.push("--spec-fd", String(INHERITED_SPEC_FD));
    // A cold launcher starts through its front, which clones the init
    // before it execs the launcher (sandbox/cmd/corral-sandbox-init/init.c).
    const front = options.ids ? undefined : frontOf(options.launcherPath);
    const [file, argv] = front ? [front, ["front", options.launcherPath, ...args]] : [options.launcherPath, args];
    // A plugin's launcher gets a session of its own (setsid), and so does
    // the init it starts: signals a terminal sends to the supervisor's
    // process group (Ctrl-C, hang-up) are the supervisor's to act on, and a
    // launcher killed by SIGHUP would take its plugin with it. `corral
    // sandbox` (stdio inherited) stays in the terminal's foreground job, so
    // that Ctrl-C reaches the command it runs.
    const child = spawn(file, argv, { stdio, env, detached: !inherit });
    this.#child = child;
    const result = launcherResult(child);
    // A spawn that failed (out of fds, say) has no pipes: its 'error' ends
    // the launch (launcherResult), and these stand in for them meanwhile.
    if (inherit) {
      // An extra fd is a socket, which this side can write as well.
      specSink = (child.stdio?.[INHERITED_SPEC_FD] as Writable | null | undefined) ?? nowhere();
    } else {
      specSink = child.stdin ?? nowhere();
      streams.push(
        forEachLine(child.stdout ?? nothing(), (line, cut) => this.#emitOutput("stdout", line, cut), { pace: this.#pace, limit: this.#lineLimit }),
        forEachLine(child.stderr ?? nothing(), (line, cut) => this.#emitOutput("stderr", line, cut), { pace: this.#pace, limit: this.#lineLimit }),
      );
    }
    if (child.pid !== undefined) killOnExit(child);
    specSink.on("error", () => {}); // EPIPE if the launcher dies first; its exit says why
    if (ownerFd !== undefined) {
      const ownerSink = (child.stdio?.[ownerFd] as Writable | null | undefined) ?? nowhere();
      ownerSink.on("error", () => {}); // EPIPE if the front made no early init: the launcher then clones after the spec
      // Closed without ids when there are none to send early, or claiming them
      // failed (then the spec fails too, and the launcher is killed).
      Promise.resolve(owner).then(
        (ids) => (ids ? ownerSink.end(`${ids.uid}:${ids.gid}\n`) : ownerSink.end()),
        () => ownerSink.end(),
      );
    }
    Promise.resolve(spec).then(
      (ready) => specSink.end(JSON.stringify(ready)),
      (err: Error) => {
        if (this.#phase.name === "launching") this.#end({ code: SETUP_FAILED, error: { stage: "prepare", message: err.message } });
        this.kill();
      },
    );

    const events = (child.stdio?.[3] as Readable | null | undefined) ?? nothing();
    const output = Promise.all([forEachLine(events, (line) => this.#onEventLine(line)), ...streams]);
    // Gone once the launcher has exited and its output has ended; or sooner,
    // once it has reported the sandbox's end and closed its output, which it
    // does when nothing of the sandbox is left (the exit of its own threads
    // may then still be under way, a millisecond or two on a busy host).
    const reported = output.then(() => {
      const phase = this.#phase;
      return phase.name === "ended" ? phase.exit : new Promise<SandboxExit>(() => {});
    });
    const exited = Promise.all([result, output]).then(([exit]) => exit);
    void Promise.race([exited, reported]).then((exit) => this.#onGone(exit));
    child.on("exit", () => {
      running.delete(child);
      this.#pace.release(); // the sandbox is gone: nothing left to hold back
    });
  }

  get pid(): number | undefined {
    return this.#child.pid;
  }

  onOutput(listener: OutputListener): () => void {
    this.#listeners.add(listener);
    return () => this.#listeners.delete(listener);
  }

  onOom(listener: () => void): () => void {
    this.#oomListeners.add(listener);
    return () => this.#oomListeners.delete(listener);
  }

  paceOutput(bytesPerSecond: number, onWait?: (ms: number) => void): void {
    this.#pace.setRate(bytesPerSecond, onWait);
  }

  limitLineLength(maxLength: number): void {
    this.#lineLimit.maxLength = maxLength;
  }

  signal(signal: NodeJS.Signals): boolean {
    return this.#alive() && this.#child.kill(signal);
  }

  kill(): boolean {
    return this.#alive() && this.#child.kill("SIGKILL");
  }

  /** Spawned and not yet reaped. */
  #alive(): boolean {
    return this.#child.pid !== undefined && this.#child.exitCode === null && this.#child.signalCode === null;
  }

  #emitOutput(stream: OutputStream, line: string, cutBytes: number): void {
    for (const listener of this.#listeners) {
      try {
        listener(stream, line, cutBytes);
      } catch (err) {
        // A failing listener is a bug to surface, but must not stop the
        // plugin's output from being drained.
        queueMicrotask(() => {
          throw err;
        });
      }
    }
  }

  #onEventLine(line: string): void {
    let event: SandboxEvent;
    try {
      event = parseEvent(line);
    } catch (err) {
      this.#protocolError((err as Error).message);
      return;
    }
    this.#onEvent(event);
  }

  #onEvent(event: SandboxEvent): void {
    const phase = this.#phase.name;
    if (event.type === "oom") {
      // At any time until the launcher is gone: the plugin's own end may
      // follow it, or come with it.
      if (phase === "gone") return;
      for (const listener of this.#oomListeners) {
        try {
          listener();
        } catch (err) {
          queueMicrotask(() => {
            throw err;
          });
        }
      }
    } else if (event.type === "init" && phase === "launching") {
      this.#phase = { name: "init" };
      this.#init.resolve({ pid: event.pid });
    } else if (event.type === "started" && phase === "init") {
      this.#phase = { name: "running" };
      this.#started.resolve({ pid: event.pid });
    } else if (event.type === "exited" && phase === "running") {
      if ("code" in event) this.#end({ code: event.code });
      else this.#end(event.syscall === undefined ? { signal: event.signal } : { signal: event.signal, syscall: event.syscall });
    } else if (event.type === "error" && phase !== "ended" && phase !== "gone") {
      this.#end({ code: SETUP_FAILED, error: { stage: event.stage, message: event.message } });
    } else {
      this.#protocolError(`unexpected ${event.type} event while ${phase}`);
    }
  }

  /** The launcher broke its contract: stop trusting it, and stop it. */
  #protocolError(message: string): void {
    if (this.#phase.name === "gone") return;
    if (this.#phase.name !== "ended") this.#end({ code: SETUP_FAILED, error: { stage: "protocol", message } });
    this.kill();
  }

  #end(exit: SandboxExit): void {
    this.#phase = { name: "ended", exit };
    this.#pace.release(); // what the plugin left is read at once, not to hold up its end
    this.#ended.resolve();
    if (exit.error) {
      const reason = new SandboxSetupError(exit.error.stage, exit.error.message);
      this.#init.reject(reason); // a no-op once resolved
      this.#started.reject(reason);
    }
  }

  #onGone(launcher: SandboxExit): void {
    const phase = this.#phase;
    if (phase.name === "gone") return;
    let exit: SandboxExit;
    if (phase.name === "ended") {
      exit = phase.exit;
    } else if (phase.name === "running") {
      exit = launcher; // e.g. the launcher was SIGKILLed: the plugin went with it
    } else {
      // The launcher vanished before the plugin started: a setup failure.
      const message = launcher.error?.message ?? `launcher ended (${describe(launcher)}) before the plugin started`;
      exit = { ...launcher, error: { stage: launcher.error?.stage ?? "launcher", message } };
      this.#end(exit);
    }
    this.#phase = { name: "gone", exit };
    this.#listeners.clear();
    this.#oomListeners.clear();
    this.#ended.resolve(); // a no-op once resolved
    this.#exited.resolve(exit);
  }
}

/**
 * How the launcher process itself ended, once it has and its stdio are
 * closed; a setup failure at stage "spawn" if it could not be started.
 */
function launcherResult(child: ChildProcess): Promise<SandboxExit> {
  return new Promise((resolve) => {
    child.on("error", (err) => {
      // Only a failed spawn ends it here; a failed kill of a live launcher does not.
      if (child.pid === undefined) resolve({ code: SETUP_FAILED, error: { stage: "spawn", message: `the launcher could not be started: ${err.message}` } });
    });
    child.on("close", (code, signal) => {
      if (signal !== null) resolve({ signal });
      else if (code !== null) resolve({ code });
    });
  });
}

function describe(exit: SandboxExit): string {
  return exit.signal !== undefined ? `killed by ${exit.signal}` : `status ${exit.code}`;
}

/** An output that ends at once: in place of a pipe a failed spawn did not make. */
function nothing(): Readable {
  return Readable.from([]);
}

/** An input that takes anything: in place of a pipe a failed spawn did not make. */
function nowhere(): Writable {
  return new Writable({ write: (_chunk, _encoding, done) => done() });
}
