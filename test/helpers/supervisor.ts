// Runs a real supervisor (bin/corral serve) for integration tests, in a
// temporary directory with its own config, cgroup parent and uid range, and
// checks afterwards that it left nothing behind.
import { execa, type ResultPromise } from "execa";
import { randomBytes } from "node:crypto";
import { existsSync } from "node:fs";
import { chmod, mkdtemp, readdir, readFile, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { stringify } from "yaml";
import type { StatusResponse__Output } from "../../proto/gen/ts/corral/admin/v1/StatusResponse.ts";
import { detectCgroups } from "../../sandbox/cgroups/detect.ts";
import { openCgroupDriver } from "../../sandbox/cgroups/open.ts";
import { connectAdmin, resolveEndpoint } from "../../supervisor/admin/client.ts";
import { unmountInstancesFs } from "../../sandbox/instances-fs.ts";
import { issueClientLeaf, loadOrCreateCA } from "../../supervisor/identity/index.ts";
import type { ClientPems } from "../../client/index.ts";
import { forEachLogLine, type LogLine } from "./logs.ts";

export const repoRoot = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "../..");
export const nodeBin = path.join(repoRoot, "node_modules/.bin/node");
export const corralBin = path.join(repoRoot, "supervisor/cli/corral.ts");
export const corralctlBin = path.join(repoRoot, "supervisor/cli/corralctl.ts");
export const plugins = {
  greeter: path.join(repoRoot, "build/plugins/greeter"),
  crasher: path.join(repoRoot, "build/test-plugins/crasher"),
  badproto: path.join(repoRoot, "build/test-plugins/badproto"),
  impostor: path.join(repoRoot, "build/test-plugins/impostor"),
  slowdrain: path.join(repoRoot, "build/test-plugins/slowdrain"),
};

export interface TestSupervisorOptions {
  plugins: Array<Record<string, unknown>>;
  /** Extra top-level config. */
  config?: Record<string, unknown>;
  /**
   * Runs the supervisor as the leader of a process group of its own, as a
   * shell runs a command in a terminal (see signalGroup).
   */
  ownProcessGroup?: boolean;
  /** Extra environment for `corral serve`. */
  env?: Record<string, string>;
  /** A command that runs `corral serve` (its arguments follow), e.g. unshare into a mount namespace. */
  wrap?: string[];
}

/** A distinct uid range per supervisor, so concurrent test files never share sandbox uids. */
function uidBase(): number {
  return 2_010_000_000 + (randomBytes(2).readUInt16BE() % 500) * 1000;
}

export class TestSupervisor {
  readonly dir: string;
  readonly configFile: string;
  readonly cgroupParent: string;
  readonly trustDomain: string;
  readonly logs: LogLine[] = [];
  /** Called with each log line as it comes (see onLog). */
  readonly #logListeners = new Set<(line: LogLine) => void>();
  readonly #ownProcessGroup: boolean;
  readonly #env: Record<string, string>;
  readonly #wrap: string[];
  #process: ResultPromise | undefined;
  #exit: Promise<{ code: number | undefined; signal: string | undefined }> | undefined;

  private constructor(dir: string, cgroupParent: string, trustDomain: string, ownProcessGroup: boolean, env: Record<string, string>, wrap: string[]) {
    this.#wrap = wrap;
    this.dir = dir;
    this.configFile = path.join(dir, "corral.yaml");
    this.cgroupParent = cgroupParent;
    this.trustDomain = trustDomain;
    this.#ownProcessGroup = ownProcessGroup;
    this.#env = env;
  }

  get stateDir(): string {
    return path.join(this.dir, "state");
  }
  get runtimeDir(): string {
    return path.join(this.dir, "run");
  }
  get adminSocket(): string {
    return path.join(this.runtimeDir, "admin.sock");
  }
  get pid(): number | undefined {
    return this.#process?.pid;
  }

  /** Writes the config; start() runs it. */
  static async create(options: TestSupervisorOptions): Promise<TestSupervisor> {
    const dir = await mkdtemp(path.join(tmpdir(), "corral-test-"));
    await chmod(dir, 0o711); // the sandboxes' uids must traverse it
    const trustDomain = typeof options.config?.trustDomain === "string" ? options.config.trustDomain : "test.corral.local";
    const supervisor = new TestSupervisor(dir, `corral-test-${randomBytes(4).toString("hex")}`, trustDomain, options.ownProcessGroup ?? false, options.env ?? {}, options.wrap ?? []);
    const config = {
      stateDir: "./state",
      runtimeDir: "./run",
      trustDomain,
      sandbox: { cgroupParent: supervisor.cgroupParent, uidBase: uidBase(), uidCount: 100 },
      ...options.config,
      plugins: options.plugins,
    };
    await writeFile(supervisor.configFile, stringify(config));
    return supervisor;
  }

  static async start(options: TestSupervisorOptions): Promise<TestSupervisor> {
    const supervisor = await TestSupervisor.create(options);
    try {
      await supervisor.start();
    } catch (err) {
      await supervisor.cleanup(); // the caller never gets it to clean up
      throw err;
    }
    return supervisor;
  }

  /** Starts `corral serve` and resolves once it logs that it is ready (within `readyWithinMs`). */
  async start({ readyWithinMs = 30_000 }: { readyWithinMs?: number } = {}): Promise<void> {
    this.logs.length = 0; // waitForLog looks at this run only
    const [command, ...args] = [...this.#wrap, nodeBin, corralBin, "serve", "--config", this.configFile];
    const child = execa(command!, args, {
      reject: false,
      buffer: false,
      stdin: "ignore",
      env: { CORRAL_LOG_LEVEL: "debug", ...this.#env },
      detached: this.#ownProcessGroup, // setsid: a session and process group of its own
      // stop() has its own bound: execa's default SIGKILLs 5 s after a
      // SIGTERM, which a drain of a plugin that ignores SIGTERM can outlast.
      forceKillAfterDelay: false,
    });
    this.#process = child;
    this.#exit = child.then((r) => ({ code: r.exitCode, signal: r.signal }));
    const stderr: string[] = [];
    child.stderr?.on("data", (chunk: Buffer) => stderr.push(chunk.toString()));
    forEachLogLine(child.stdout!, (line) => {
      this.logs.push(line);
      for (const listener of this.#logListeners) listener(line);
    });
    const ready = this.waitForLog((l) => l.msg.startsWith("supervisor ready"), readyWithinMs);
    const died = this.#exit.then((exit) => {
      throw new Error(`supervisor exited (${exit.code ?? exit.signal}) before ready: ${stderr.join("")}`);
    });
    await Promise.race([ready, died]);
  }

  /**
   * The PEMs of a host application `name` allowed to call `plugins`, from
   * this supervisor's CA: what `corralctl certs issue --role client` gives.
   */
  async clientPems(name: string, plugins: string[]): Promise<ClientPems> {
    const ca = await loadOrCreateCA(this.stateDir, { trustDomain: this.trustDomain });
    const leaf = await issueClientLeaf(ca, { trustDomain: this.trustDomain, ttlMs: 3600_000 }, name, plugins);
    return { caPem: ca.certPem, certPem: leaf.certPem, keyPem: leaf.keyPem };
  }

  /** The URL of its metrics endpoint (with `metrics.listen` in its config), as its ready line says. */
  async metricsUrl(): Promise<string> {
    const ready = await this.waitForLog((l) => typeof l.msg === "string" && l.msg.startsWith("supervisor ready"));
    if (typeof ready.metrics !== "string") throw new Error("this supervisor serves no metrics (metrics.listen is not set)");
    return ready.metrics;
  }

  /** Calls `listener` with each log line from now on, as it comes (not polled); returns what stops it. */
  onLog(listener: (line: LogLine) => void): () => void {
    this.#logListeners.add(listener);
    return () => this.#logListeners.delete(listener);
  }

  /** Resolves with the first log line (seen or future) matching `predicate`. */
  async waitForLog(predicate: (line: LogLine) => boolean, timeoutMs = 15_000): Promise<LogLine> {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const found = this.logs.find(predicate);
      if (found) return found;
      if (Date.now() > deadline) {
        throw new Error(`no matching log line within ${timeoutMs} ms; last lines:\n${this.logs.slice(-15).map((l) => JSON.stringify(l)).join("\n")}`);
      }
      await new Promise((r) => setTimeout(r, 20));
    }
  }

  async status(): Promise<StatusResponse__Output> {
    const endpoint = await resolveEndpoint({ config: this.configFile });
    const client = await connectAdmin(endpoint);
    try {
      return await new Promise((resolve, reject) =>
        client.Status({ plugins: [] }, { deadline: new Date(Date.now() + 5000) }, (err, value) => (err ? reject(err) : resolve(value!))),
      );
    } finally {
      client.close();
    }
  }

  async plugin(name: string) {
    const found = (await this.status()).plugins.find((p) => p.name === name);
    if (!found) throw new Error(`no plugin ${name}`);
    return found;
  }

  /** Polls status until `predicate` holds for the plugin. */
  async waitForPlugin(name: string, predicate: (p: Awaited<ReturnType<TestSupervisor["plugin"]>>) => boolean, timeoutMs = 20_000) {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const p = await this.plugin(name);
      if (predicate(p)) return p;
      if (Date.now() > deadline) throw new Error(`plugin ${name} did not reach the expected state; last: ${JSON.stringify(p)}`);
      await new Promise((r) => setTimeout(r, 50));
    }
  }

  /**
   * Sends `signal` to every process in the supervisor's process group, as a
   * terminal does (Ctrl-C: SIGINT; hang-up: SIGHUP) to its foreground job.
   * Needs ownProcessGroup.
   */
  signalGroup(signal: NodeJS.Signals): void {
    if (!this.#ownProcessGroup || this.#process?.pid === undefined) throw new Error("the supervisor has no process group of its own");
    process.kill(-this.#process.pid, signal);
  }

  /** Resolves when the supervisor has exited, with its exit code or signal. */
  exited(): Promise<{ code: number | undefined; signal: string | undefined }> {
    if (!this.#exit) throw new Error("not started");
    return this.#exit;
  }

  /** Sends `signal` to the supervisor and waits for it to exit. */
  async stop(signal: NodeJS.Signals = "SIGTERM", timeoutMs = 30_000) {
    if (!this.#process || !this.#exit) throw new Error("not started");
    this.#process.kill(signal);
    const timer = setTimeout(() => this.#process?.kill("SIGKILL"), timeoutMs);
    try {
      return await this.#exit;
    } finally {
      clearTimeout(timer);
    }
  }

  /** What this supervisor left on the host: cgroups, instance dirs, sockets, mounts. */
  async leftovers(): Promise<string[]> {
    const found: string[] = [];
    // Where its cgroup parent would be: beside this process's cgroup in
    // each v1 hierarchy; on v2 beside it, or beside the leaf it was moved
    // into (as bench/leftovers.ts looks).
    const layout = await detectCgroups();
    const dirs = layout.mode === "v2" ? [layout.own, path.dirname(layout.own)] : [...new Set(Object.values(layout.controllers).map((h) => h!.own))];
    for (const dir of dirs) {
      const parent = path.join(dir, this.cgroupParent);
      if (existsSync(parent)) found.push(`cgroup ${parent}`);
    }
    const instances = path.join(this.runtimeDir, "instances");
    if (existsSync(instances)) for (const d of await readdir(instances)) found.push(`instance dir ${d}`);
    if (existsSync(this.adminSocket)) found.push(`socket ${this.adminSocket}`);
    if (existsSync(path.join(this.stateDir, "supervisor.pid"))) found.push("state directory lock");
    const mounts = await readFile("/proc/self/mountinfo", "utf8");
    for (const line of mounts.split("\n")) if (line.includes(this.dir)) found.push(`mount ${line}`);
    return found;
  }

  /** Kills the supervisor if it still runs, removes whatever it left, deletes the directory. */
  async cleanup(): Promise<void> {
    if (this.#process && this.#process.exitCode === null && this.#process.signalCode === null) {
      this.#process.kill("SIGKILL");
      await this.#exit;
    }
    const driver = await openCgroupDriver({ parent: this.cgroupParent });
    await driver.removeParent();
    // The instance directories' tmpfs, left by a supervisor that was killed.
    await unmountInstancesFs(path.join(repoRoot, "build/bin/corral-sandbox"), path.join(this.runtimeDir, "instances"));
    // The lock of its cgroup parent, left by a supervisor that was killed.
    const locks = "/run/lock/corral";
    for (const name of await readdir(locks).catch(() => [] as string[])) {
      if (name.startsWith(`cgroup-${this.cgroupParent}-`)) await rm(path.join(locks, name), { force: true });
    }
    await rm(this.dir, { recursive: true, force: true });
  }
}

/** Runs corralctl with arguments; returns its exit code and output. */
export async function corralctl(args: string[], env: Record<string, string> = {}) {
  const r = await execa(nodeBin, [corralctlBin, ...args], { reject: false, env, stdin: "ignore", stripFinalNewline: false });
  return { code: r.exitCode, stdout: String(r.stdout), stderr: String(r.stderr) };
}

export function processAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}
