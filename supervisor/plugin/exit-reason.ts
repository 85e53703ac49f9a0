// How an instance ended, in words an operator can act on. The cgroup's
// counters decide an OOM kill (the kernel's SIGKILL alone could be anyone's),
// of an instance that ended by SIGKILL: a plugin that exited on its own after
// the kernel killed a child of it did not die of the OOM killer.
import type { CgroupEvents } from "../../sandbox/cgroups/driver.ts";
import { formatBytes } from "../config/units.ts";

export interface SandboxEnd {
  code?: number;
  signal?: string;
  /** The syscall seccomp refused, when it killed the plugin. */
  syscall?: string;
  error?: { stage: string; message: string };
}

export function describeExit(end: SandboxEnd, events: CgroupEvents | undefined, memoryLimit: number): string {
  if (end.error) return `sandbox setup failed at ${end.error.stage}: ${end.error.message}`;
  const oomKills = events?.oomKills ?? 0;
  if (oomKills > 0 && end.signal === "SIGKILL") return `killed by the kernel's OOM killer (memory limit ${formatBytes(memoryLimit)})`;
  const how = end.signal === "SIGSYS" && end.syscall ? `killed by SIGSYS: seccomp refused syscall ${end.syscall}` : end.signal ? `killed by ${end.signal}` : `exited with status ${end.code}`;
  return oomKills > 0 ? `${how}, after the kernel's OOM killer killed ${oomKills} of its processes (memory limit ${formatBytes(memoryLimit)})` : how;
}

/** The most of a line of the plugin's that a reason quotes. */
const MAX_WORDS = 500;

/**
 * Lines of a plugin's stderr that say why it ended: go-shim's refusal to
 * serve (Serve's "<name>: corral go-shim: …", the plugin's mistake: a bad
 * certificate, a service go-shim serves itself), a Go panic's first line
 * (its stack follows), the runtime's fatal error.
 */
const TELLING = /^panic: |^fatal error: |^\S+: corral go-shim: /;
const GO_SHIM_LOG = /^corral go-shim: /;

/**
 * What a plugin said last on stderr, for the reason it ended with a status
 * other than 0: the last telling line, else the last line (log.Fatal's).
 * Without it the reason was "exited with status 1", and the why only in the
 * daemon's journal: `corralctl logs` has nothing of a plugin a reload's add
 * failed to start.
 */
export class LastWords {
  #telling: string | undefined;
  #last: string | undefined;

  see(stream: string, line: string): void {
    // Called for every line the plugin writes, up to maxLineLength long: no copy of it.
    if (stream !== "stderr" || !/\S/.test(line)) return;
    const shown = line.length > MAX_WORDS ? `${line.slice(0, MAX_WORDS)}…` : line;
    if (TELLING.test(line)) this.#telling = shown;
    // go-shim's own log ("corral go-shim: revocation list loaded", a
    // refused connection) says nothing of why the plugin ended.
    else if (!GO_SHIM_LOG.test(line)) this.#last = shown;
  }

  /** "; it said: …" to end the reason of an exit with `end`, or "". */
  after(end: SandboxEnd): string {
    const words = this.#telling ?? this.#last;
    return words !== undefined && end.error === undefined && end.code !== undefined && end.code !== 0 ? `${SAID}${words}` : "";
  }
}

const SAID = "; it said: ";

/**
 * A reason without the plugin's words, for its callers (the refusal's
 * UNAVAILABLE message): what a plugin wrote on stderr is its operators' to
 * read, and may hold another caller's data (a panic's message). The words
 * come last, after the first SAID of the reason.
 */
export function withoutWords(reason: string): string {
  const at = reason.indexOf(SAID);
  return at < 0 ? reason : reason.slice(0, at);
}
