// What the chaos tests measure of a running supervisor from the outside:
// its open fds, resident memory, threads and child processes from /proc,
// and its timers (active Timeout resources) from its own Prometheus
// endpoint; memory after full garbage collections it is made to run
// through its inspector. Also the processes a sandbox left in a cgroup,
// and the bookkeeping of calls made under chaos.
import { readdir, readFile, readlink } from "node:fs/promises";
import http from "node:http";
import path from "node:path";
import { descendants, processTable } from "../helpers/processes.ts";

export interface ProcessSample {
  fds: number;
  rssKiB: number;
  threads: number;
  /** Direct children: sandbox launchers (one per instance, and warm spares). */
  children: number;
  /** Every descendant: launchers, sandbox inits, plugins. */
  descendants: number;
  /** Open fds by kind: pipe, anon_inode:[eventpoll], a file's path, a Unix socket's path and whether it listens... */
  fdKinds: Record<string, number>;
  /**
   * Accepted connections on the admin socket: the test's own status polls
   * and corralctl calls while they last (a closed client's connection is
   * gone by the next half-second sample). Settled samples hold them to the
   * baseline's count.
   */
  adminConnections: number;
}

export interface SupervisorSample extends ProcessSample {
  /**
   * Timers (Timeout resources) keeping the supervisor's event loop alive,
   * from its metrics (process.getActiveResourcesInfo(): unref'd timers are
   * not among them).
   */
  timers: number;
  /** Every active libuv handle and request, from its metrics. */
  resources: number;
  heapUsedBytes: number;
}

/** Pids of every process whose cgroup path names `cgroupParent` (whatever its parent process). */
export async function processesInCgroup(cgroupParent: string): Promise<number[]> {
  const found: number[] = [];
  for (const entry of await readdir("/proc")) {
    if (!/^\d+$/.test(entry)) continue;
    const cgroup = await readFile(`/proc/${entry}/cgroup`, "utf8").catch(() => "");
    if (cgroup.split("\n").some((line) => line.split(":")[2]?.split("/").includes(cgroupParent))) found.push(Number(entry));
  }
  return found;
}

function statusField(status: string, field: string): number {
  const match = new RegExp(`^${field}:\\s+(\\d+)`, "m").exec(status);
  if (!match) throw new Error(`no ${field} in /proc/<pid>/status`);
  return Number(match[1]);
}

/** What differs between two samples' fds, by kind: "+2 socket, -1 pipe". */
export function fdDifference(before: ProcessSample, after: ProcessSample): string {
  const kinds = new Set([...Object.keys(before.fdKinds), ...Object.keys(after.fdKinds)]);
  const parts: string[] = [];
  for (const k of [...kinds].sort()) {
    const d = (after.fdKinds[k] ?? 0) - (before.fdKinds[k] ?? 0);
    if (d !== 0) parts.push(`${d > 0 ? "+" : ""}${d} ${k}`);
  }
  return parts.join(", ") || "none";
}

export async function sampleProcess(pid: number): Promise<ProcessSample> {
  const [fds, status, table] = await Promise.all([readdir(`/proc/${pid}/fd`), readFile(`/proc/${pid}/status`, "utf8"), processTable()]);
  const count = (await descendants(pid, table)).length;
  // Unix sockets by inode: their path (an accepted connection shows its listener's) and state.
  const unix = new Map<string, string>();
  for (const line of (await readFile(`/proc/${pid}/net/unix`, "utf8").catch(() => "")).split("\n").slice(1)) {
    const f = line.trim().split(/\s+/);
    if (f.length < 7) continue;
    const listening = (parseInt(f[3]!, 16) & 0x10000) !== 0;
    unix.set(f[6]!, `unix ${f[7] ? path.basename(f[7]) : "(unnamed)"}${listening ? " listening" : ""}`);
  }
  const fdKinds: Record<string, number> = {};
  for (const fd of fds) {
    const target = await readlink(`/proc/${pid}/fd/${fd}`).catch(() => "(gone)");
    const socket = /^socket:\[(\d+)\]$/.exec(target);
    const kind = socket ? (unix.get(socket[1]!) ?? "socket (tcp)") : target.replace(/^pipe:\[\d+\]$/, "pipe");
    fdKinds[kind] = (fdKinds[kind] ?? 0) + 1;
  }
  return {
    fds: fds.length,
    fdKinds,
    adminConnections: fdKinds["unix admin.sock"] ?? 0,
    rssKiB: statusField(status, "VmRSS"),
    threads: statusField(status, "Threads"),
    children: table.get(pid)?.length ?? 0,
    descendants: count,
  };
}

/**
 * GETs a Prometheus endpoint on a connection of its own that is closed
 * after the response (no keep-alive), so the scrape leaves no socket open in
 * the supervisor to be counted among its fds.
 */
export function scrape(url: string): Promise<string> {
  return new Promise((resolve, reject) => {
    const req = http.get(url, { agent: false, headers: { connection: "close" }, timeout: 10_000 }, (res) => {
      let body = "";
      res.setEncoding("utf8");
      res.on("data", (chunk: string) => (body += chunk));
      res.on("end", () => (res.statusCode === 200 ? resolve(body) : reject(new Error(`${url}: HTTP ${res.statusCode}`))));
      res.on("error", reject);
    });
    req.on("timeout", () => req.destroy(new Error(`${url}: no answer within 10 s`)));
    req.on("error", reject);
  });
}

/** The value of one sample of the text format, e.g. metric('x_total', {type: "Timeout"}). */
export function metric(text: string, name: string, labels: Record<string, string> = {}): number | undefined {
  for (const line of text.split("\n")) {
    if (!line.startsWith(name) || (line[name.length] !== " " && line[name.length] !== "{")) continue;
    const labelText = line[name.length] === "{" ? line.slice(name.length + 1, line.indexOf("}")) : "";
    if (!Object.entries(labels).every(([k, v]) => labelText.includes(`${k}="${v}"`))) continue;
    return Number(line.slice(line.lastIndexOf(" ") + 1));
  }
  return undefined;
}

/** The TCP ports `pid` listens on (from its network namespace's table and its socket fds). */
export async function listeningPorts(pid: number): Promise<number[]> {
  const inodes = new Set<string>();
  for (const fd of await readdir(`/proc/${pid}/fd`)) {
    const target = await readlink(`/proc/${pid}/fd/${fd}`).catch(() => "");
    const match = /^socket:\[(\d+)\]$/.exec(target);
    if (match) inodes.add(match[1]!);
  }
  const ports: number[] = [];
  for (const table of ["tcp", "tcp6"]) {
    const text = await readFile(`/proc/${pid}/net/${table}`, "utf8").catch(() => "");
    for (const line of text.split("\n").slice(1)) {
      const f = line.trim().split(/\s+/);
      if (f[3] === "0A" && inodes.has(f[9]!)) ports.push(parseInt(f[1]!.split(":")[1]!, 16));
    }
  }
  return ports;
}

/**
 * The WebSocket URL of the inspector of `pid` (started with
 * --inspect=127.0.0.1:0, so on a port of its own): the listening port
 * that answers /json/list.
 */
export async function inspectorUrl(pid: number): Promise<string> {
  for (const port of await listeningPorts(pid)) {
    try {
      const targets = JSON.parse(await scrape(`http://127.0.0.1:${port}/json/list`)) as Array<{ webSocketDebuggerUrl?: string }>;
      const url = targets[0]?.webSocketDebuggerUrl;
      if (url) return url;
    } catch {
      // not the inspector
    }
  }
  throw new Error(`process ${pid} has no inspector listening`);
}

/**
 * Has the inspected process run full garbage collections (two, so that
 * what the first finalized is freed too), then closes the connection. Memory
 * is measured after this: what is left is what the process holds, not what
 * V8 has yet to collect.
 */
export async function collectGarbage(wsUrl: string): Promise<void> {
  const ws = new WebSocket(wsUrl);
  try {
    await new Promise<void>((resolve, reject) => {
      ws.addEventListener("open", () => resolve(), { once: true });
      ws.addEventListener("error", () => reject(new Error(`cannot reach the inspector at ${wsUrl}`)), { once: true });
    });
    for (const id of [1, 2]) {
      await new Promise<void>((resolve, reject) => {
        const timer = setTimeout(() => reject(new Error("no answer from the inspector within 30 s")), 30_000);
        const onMessage = (event: MessageEvent) => {
          if ((JSON.parse(String(event.data)) as { id?: number }).id !== id) return;
          clearTimeout(timer);
          ws.removeEventListener("message", onMessage);
          resolve();
        };
        ws.addEventListener("message", onMessage);
        ws.send(JSON.stringify({ id, method: "HeapProfiler.collectGarbage" }));
      });
    }
  } finally {
    ws.close();
  }
}

/**
 * /proc figures of the supervisor, then its timers and handles from its
 * metrics (scraped after /proc was read). With `inspector`, after full
 * garbage collections.
 */
export async function sampleSupervisor(pid: number, metricsUrl: string, inspector?: string): Promise<SupervisorSample> {
  if (inspector) {
    await collectGarbage(inspector);
    await new Promise((r) => setTimeout(r, 200)); // the inspector's connection closes
  }
  const proc = await sampleProcess(pid);
  const text = await scrape(metricsUrl);
  return {
    ...proc,
    timers: metric(text, "corral_supervisor_nodejs_active_resources", { type: "Timeout" }) ?? 0,
    resources: metric(text, "corral_supervisor_nodejs_active_resources_total") ?? Number.NaN,
    heapUsedBytes: metric(text, "corral_supervisor_nodejs_heap_size_used_bytes") ?? Number.NaN,
  };
}

/**
 * Samples until two samples in a row agree on fds, children, timers (the
 * supervisor has settled: instances started, connections closed), or
 * `timeoutMs` passes; returns the last sample. The scrape's own connection
 * is closed before the next sample reads /proc. With `inspector`, each
 * sample follows full garbage collections.
 */
export async function settledSample(pid: number, metricsUrl: string, inspector?: string, timeoutMs = 15_000): Promise<SupervisorSample> {
  const deadline = Date.now() + timeoutMs;
  let last = await sampleSupervisor(pid, metricsUrl, inspector);
  let agreeing = 0;
  for (;;) {
    await new Promise((r) => setTimeout(r, inspector ? 100 : 300)); // (a GC and a pause come first with an inspector)
    const next = await sampleSupervisor(pid, metricsUrl, inspector);
    const same = next.fds === last.fds && next.adminConnections === last.adminConnections && next.children === last.children && next.descendants === last.descendants && next.timers === last.timers;
    agreeing = same ? agreeing + 1 : 0;
    last = next;
    if (agreeing >= 2 || Date.now() > deadline) return last;
  }
}

export const MiB = 1024;

/** One call's outcome: when it started and ended (ms since epoch), and how it failed if it did. */
export interface CallRecord {
  plugin: string;
  start: number;
  end: number;
  error?: string;
}

/** A span of time during which calls to a plugin may fail (it was killed, or paused). */
export interface Window {
  start: number;
  end: number;
}

/** Whether the call [start, end] overlaps any window. */
export function overlaps(call: CallRecord, windows: Window[]): boolean {
  return windows.some((w) => call.start <= w.end && call.end >= w.start);
}

export const sleep = (ms: number) => new Promise<void>((r) => setTimeout(r, ms));

/** A uniformly random integer in [min, max]. */
export const between = (min: number, max: number) => min + Math.floor(Math.random() * (max - min + 1));
