// sd_notify(3) for the supervisor: READY=1, RELOADING=1, STOPPING=1,
// STATUS=… and the watchdog's WATCHDOG=1, sent to systemd's NOTIFY_SOCKET.
//
// How: Node has no AF_UNIX datagram sockets (dgram is UDP only, net is
// streams only), so the datagrams are sent by a small static Go helper,
// build/bin/corral-notify (supervisor/systemd/cmd/corral-notify), started once
// and fed one message a line on its stdin; it answers each on its stdout. It
// sends with SCM_CREDENTIALS naming the supervisor's pid (allowed to root), so
// systemd takes the messages as the main process's own and the unit can keep
// NotifyAccess=main. The alternatives were worse: `systemd-notify` is a
// process per message, needs NotifyAccess=all, and systemd drops a message
// whose short-lived sender has exited before it could look up its cgroup (the
// documented READY=1 race); the npm packages (sd-notify, unix-dgram) are
// native addons, built with node-gyp at install time, for a few bytes a minute.
//
// The helper is started on the first message, not before: by then the
// supervisor has moved itself into its cgroup leaf (cgroup v2 delegation,
// sandbox/cgroups/delegation.ts) and the helper starts there with it, not in
// the delegated cgroup's root, which must hold no process once controllers
// are enabled beneath it.
//
// Nothing here throws or rejects: a notification that cannot be sent is
// logged (once per distinct error) and reported as `false`. With NOTIFY_SOCKET
// unset (not under systemd, or Type= not notify) every call is a no-op.
import { spawn, type ChildProcessWithoutNullStreams } from "node:child_process";
import type { Socket } from "node:net";
import path from "node:path";
import { createInterface } from "node:readline";
import { fileURLToPath } from "node:url";
import type { Logger } from "../log.ts";

const repoRoot = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "../..");

/** The helper this checkout builds (scripts/build-go.sh). */
export const DEFAULT_NOTIFY_HELPER = path.join(repoRoot, "build/bin/corral-notify");

/** The variables systemd passes a Type=notify service, removed from process.env once read. */
const VARIABLES = ["NOTIFY_SOCKET", "WATCHDOG_USEC", "WATCHDOG_PID"] as const;

export interface NotifierOptions {
  logger: Logger;
  /**
   * Where NOTIFY_SOCKET, WATCHDOG_USEC and WATCHDOG_PID are read from. Default
   * process.env, from which they are then removed (as sd_notify's
   * unset_environment does) so that no child process inherits them.
   */
  env?: NodeJS.ProcessEnv;
  /** The corral-notify binary; default DEFAULT_NOTIFY_HELPER. */
  helperPath?: string;
  /** The pid the messages are sent for; default process.pid. */
  pid?: number;
}

/** The keep-alive timer: WATCHDOG=1 every half of WATCHDOG_USEC until stop(). */
export interface Watchdog {
  readonly intervalMs: number;
  stop(): void;
}

interface Helper {
  child: ChildProcessWithoutNullStreams;
  /** Resolvers of the messages written and not yet answered, in order. */
  pending: Array<(sent: boolean) => void>;
  stderr: string;
  exited: Promise<void>;
}

/**
 * The ping interval systemd asks for, in ms: half of WATCHDOG_USEC, or
 * undefined when there is no watchdog or it is meant for another process
 * (WATCHDOG_PID set and not `pid`).
 */
export function watchdogIntervalMs(env: NodeJS.ProcessEnv, pid: number): number | undefined {
  const usec = Number(env.WATCHDOG_USEC);
  if (!env.WATCHDOG_USEC || !Number.isSafeInteger(usec) || usec <= 0) return undefined;
  if (env.WATCHDOG_PID && Number(env.WATCHDOG_PID) !== pid) return undefined;
  return Math.max(1, Math.floor(usec / 2000));
}

export class Notifier {
  readonly #log: Logger;
  readonly #socket: string | undefined;
  readonly #watchdogMs: number | undefined;
  readonly #helperPath: string;
  readonly #pid: number;
  #helper: Helper | undefined;
  #closed = false;
  /** The last error logged; the same one again is logged at debug only. */
  #lastError: string | undefined;
  #warnedAsHelper = false;

  constructor(options: NotifierOptions) {
    const env = options.env ?? process.env;
    this.#log = options.logger;
    this.#pid = options.pid ?? process.pid;
    this.#helperPath = options.helperPath ?? DEFAULT_NOTIFY_HELPER;
    this.#socket = env.NOTIFY_SOCKET || undefined;
    this.#watchdogMs = this.#socket ? watchdogIntervalMs(env, this.#pid) : undefined;
    if (env.WATCHDOG_USEC && this.#socket && this.#watchdogMs === undefined) {
      this.#log.debug({ watchdogUsec: env.WATCHDOG_USEC, watchdogPid: env.WATCHDOG_PID }, "systemd watchdog not for this process, or not a number: off");
    }
    if (env === process.env) for (const name of VARIABLES) delete process.env[name];
  }

  /** Whether there is a NOTIFY_SOCKET to notify. */
  get enabled(): boolean {
    return this.#socket !== undefined;
  }

  /** Half of WATCHDOG_USEC in ms, when systemd watches this process. */
  get watchdogIntervalMs(): number | undefined {
    return this.#watchdogMs;
  }

  /**
   * Sends one datagram of `KEY=VALUE` assignments. Resolves true once it was
   * sent, false (logged) if it could not be, or at once if not enabled.
   * Newlines in values become spaces: they would end the assignment.
   */
  notify(...assignments: string[]): Promise<boolean> {
    if (!this.#socket || this.#closed) return Promise.resolve(false);
    const payload = assignments.map((a) => a.replace(/[\r\n]+/g, " ")).join("\n");
    if (Buffer.byteLength(payload) > MAX_NOTIFICATION_BYTES) {
      // systemd would drop it without a word to us: said here instead.
      this.#log.error({ bytes: Buffer.byteLength(payload), start: payload.slice(0, 60) }, `a systemd notification of over ${MAX_NOTIFICATION_BYTES} bytes would be ignored; not sent`);
      return Promise.resolve(false);
    }
    const helper = this.#helper ?? this.#start(this.#socket);
    if (!helper) return Promise.resolve(false);
    return new Promise((resolve) => {
      helper.pending.push(resolve);
      (helper.child.stdout as Socket).ref(); // an answer is awaited
      helper.child.stdin.write(`${JSON.stringify(payload)}\n`);
    });
  }

  /** READY=1: startup is complete (every plugin ready or settled). */
  ready(status?: string): Promise<boolean> {
    return this.notify("READY=1", ...statusOf(status));
  }

  /**
   * RELOADING=1 with MONOTONIC_USEC (CLOCK_MONOTONIC, which
   * process.hrtime reads), as Type=notify-reload (systemd ≥ 253) requires;
   * older versions ignore the timestamp. Call reloaded() when done, failed or
   * not: systemd considers the service reloading until READY=1.
   */
  reloading(status?: string): Promise<boolean> {
    return this.notify("RELOADING=1", `MONOTONIC_USEC=${process.hrtime.bigint() / 1000n}`, ...statusOf(status));
  }

  /** READY=1 after reloading(): the reload is over. */
  reloaded(status?: string): Promise<boolean> {
    return this.ready(status);
  }

  /** STOPPING=1: shutdown has begun. */
  stopping(status?: string): Promise<boolean> {
    return this.notify("STOPPING=1", ...statusOf(status));
  }

  /** STATUS=…: a one-line state shown by `systemctl status`. */
  status(text: string): Promise<boolean> {
    return this.notify(...statusOf(text));
  }

  /**
   * Starts WATCHDOG=1 at half of WATCHDOG_USEC (the first at once), or
   * returns undefined when systemd does not watch this process. A ping whose
   * predecessor is still unanswered (the helper stuck on a full socket) is
   * skipped rather than queued. The timer does not keep the process alive.
   */
  startWatchdog(): Watchdog | undefined {
    const intervalMs = this.#watchdogMs;
    if (intervalMs === undefined || !this.enabled) return undefined;
    let inFlight = false;
    const ping = () => {
      if (inFlight) return;
      inFlight = true;
      void this.notify("WATCHDOG=1").finally(() => {
        inFlight = false;
      });
    };
    ping();
    const timer = setInterval(ping, intervalMs);
    timer.unref();
    this.#log.info({ intervalMs }, "systemd watchdog: pinging");
    return { intervalMs, stop: () => clearInterval(timer) };
  }

  /**
   * Lets the helper send what it was given, then ends it (killed after
   * `timeoutMs`). Later notifications are no-ops.
   */
  async close(timeoutMs = 2000): Promise<void> {
    this.#closed = true;
    const helper = this.#helper;
    if (!helper) return;
    helper.child.stdin.end();
    let timer: NodeJS.Timeout | undefined;
    const late = new Promise<void>((resolve) => {
      timer = setTimeout(() => {
        helper.child.kill("SIGKILL");
        resolve();
      }, timeoutMs);
    });
    await Promise.race([helper.exited, late]);
    clearTimeout(timer);
  }

  #start(socket: string): Helper | undefined {
    let child: ChildProcessWithoutNullStreams;
    try {
      child = spawn(this.#helperPath, ["--socket", socket, "--pid", String(this.#pid)], { stdio: "pipe", env: {} });
    } catch (err) {
      this.#error(`cannot start ${this.#helperPath}: ${(err as Error).message}`);
      return undefined;
    }
    let exited!: () => void;
    const helper: Helper = { child, pending: [], stderr: "", exited: new Promise((resolve) => (exited = resolve)) };
    this.#helper = helper;
    let over = false;
    const gone = (why: string) => {
      if (over) return; // "error" and "close" may both come
      over = true;
      if (this.#helper === helper) this.#helper = undefined; // the next message starts another
      for (const resolve of helper.pending.splice(0)) resolve(false);
      if (why) this.#error(why);
      exited();
    };
    child.on("error", (err) => gone(`notify helper ${this.#helperPath}: ${err.message}`));
    // "close", not "exit": by then its stderr has been read to the end.
    child.on("close", (code, signal) => {
      const expected = this.#closed && code === 0;
      gone(expected ? "" : `notify helper exited (${signal ?? code})${helper.stderr ? `: ${helper.stderr.trim()}` : ""}`);
    });
    child.stdin.on("error", () => {}); // EPIPE: the exit says why
    child.stderr.on("data", (chunk: Buffer) => {
      helper.stderr = (helper.stderr + chunk.toString()).slice(-2000);
    });
    createInterface({ input: child.stdout, crlfDelay: Infinity }).on("line", (line) => this.#answer(helper, line));
    // Neither the helper nor its pipes keep the supervisor alive.
    child.unref();
    for (const stream of [child.stdin, child.stdout, child.stderr]) (stream as unknown as Socket).unref();
    return helper;
  }

  #answer(helper: Helper, line: string): void {
    const resolve = helper.pending.shift();
    if (helper.pending.length === 0) (helper.child.stdout as Socket).unref();
    if (line === "ok") {
      this.#lastError = undefined;
      resolve?.(true);
    } else if (line.startsWith("ok-as-helper: ")) {
      if (!this.#warnedAsHelper) this.#log.warn({ socket: this.#socket }, `systemd notification ${line.slice("ok-as-helper: ".length)}`);
      this.#warnedAsHelper = true;
      resolve?.(true);
    } else {
      this.#error(`systemd notification not sent: ${line.replace(/^error: /, "")}`);
      resolve?.(false);
    }
  }

  #error(message: string): void {
    if (message === this.#lastError) {
      this.#log.debug({ socket: this.#socket }, message);
      return;
    }
    this.#lastError = message;
    this.#log.error({ socket: this.#socket }, message);
  }
}

/**
 * systemd drops a notification datagram of more than PIPE_BUF (4096) bytes
 * whole, READY=1 with it, and says so only in its own log; the sender's
 * sendmsg succeeds. A STATUS is one line for `systemctl status`: it is cut
 * to this many bytes, which leaves room for the rest of any message.
 */
export const MAX_STATUS_BYTES = 1024;
/** What systemd reads of a notification (NOTIFY_BUFFER_MAX). */
export const MAX_NOTIFICATION_BYTES = 4096;

function statusOf(status: string | undefined): string[] {
  return status === undefined ? [] : [`STATUS=${cutToBytes(status, MAX_STATUS_BYTES)}`];
}

/** `text` if it fits in `max` UTF-8 bytes, else as much of it as fits with "…". */
export function cutToBytes(text: string, max: number): string {
  if (Buffer.byteLength(text) <= max) return text;
  const ellipsis = "…";
  let cut = Buffer.from(text).subarray(0, max - Buffer.byteLength(ellipsis)).toString();
  if (cut.endsWith("\uFFFD")) cut = cut.slice(0, -1); // a character cut in two
  return cut + ellipsis;
}

/** How many plugins, and their names while they fit in a line of `systemctl status`. */
export function supervisingStatus(plugins: string[]): string {
  const count = `supervising ${plugins.length} plugin${plugins.length === 1 ? "" : "s"}`;
  const names = plugins.join(", ");
  return `${count}${plugins.length > 0 && names.length <= MAX_NAMES_SHOWN ? ` (${names})` : ""}; corralctl status for their states`;
}

/** Longer lists of plugin names are left out of READY's STATUS (one line of `systemctl status`). */
const MAX_NAMES_SHOWN = 200;
