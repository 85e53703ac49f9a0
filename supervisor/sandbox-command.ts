// `corral sandbox`: runs any command in exactly the sandbox a plugin gets
// (same spec, cgroup limits, rlimits, environment, grants and network), with
// stdio attached and the command's exit status passed through. For operators
// debugging a plugin, and for tests.
//
// A run is planned (config, plugin entry, flags, the command resolved on the
// host PATH), then run: a uid claimed from the config's sandbox range, a
// launcher started at once (its namespaces come up meanwhile), the instance
// directory and cgroup made concurrently, the spec handed over; and
// afterwards everything given back, whichever way the run ended.
import { accessSync, chownSync, constants as fsConstants, existsSync, mkdirSync, readdirSync, rmdirSync, statSync } from "node:fs";
import { rmdir } from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import type { CgroupDriver, InstanceCgroup } from "../sandbox/cgroups/driver.ts";
import { openCgroupDriver } from "../sandbox/cgroups/open.ts";
import type { LaunchSlot, SandboxIds } from "../sandbox/launcher-pool.ts";
import { launchSandbox, type SandboxExit, type SandboxProcess } from "../sandbox/launcher.ts";
import { SETUP_FAILED, type SandboxSpec } from "../sandbox/spec.ts";
import { ConfigError, loadConfig, parseConfig } from "./config/load.ts";
import { pluginSchema, type Config, type PluginConfig } from "./config/schema.ts";
import { pluginCgroupLimits, pluginSandboxSpec } from "./plugin/sandbox-spec.ts";
import { UidLocks } from "./plugin/uid-locks.ts";
import { removeTree } from "./remove-tree.ts";
import { processAlive } from "./process-alive.ts";
import { readProcStat } from "./proc-stat.ts";

export const DEFAULT_CONFIG = "/etc/corral/corral.yaml";

/** Something Corral itself failed at, before or around the command: exit 125. */
export class SandboxCommandError extends Error {
  override name = "SandboxCommandError";
  readonly stage: string;
  constructor(stage: string, message: string) {
    super(message);
    this.stage = stage;
  }
}

/** The command line's options, as written. */
export interface SandboxFlags {
  /** A config file named explicitly (--config or $CORRAL_CONFIG). */
  config?: string;
  plugin?: string;
  memory?: string;
  pids?: string;
  cpu?: string;
  workspace?: string;
  ro?: string[];
  network?: string;
  env?: string[];
}

/** What one run will do, everything checked. */
export interface SandboxPlan {
  /** The plugin entry the sandbox is confined as, flags applied. */
  plugin: PluginConfig;
  /** Absolute host path of the command, mounted at /plugin. */
  binary: string;
  args: string[];
  cgroupParent: string;
  uidBase: number;
  uidCount: number;
  runtimeDir: string;
}

export interface PlanOptions {
  /** Where a config is looked for when none is named; default /etc/corral/corral.yaml. */
  defaultConfig?: string;
  /** Relative command and --ro paths are resolved against it; default process.cwd(). */
  cwd?: string;
  /** The PATH the command is looked up on; default $PATH. */
  searchPath?: string;
}

/** The name of the plugin-less sandbox: its hostname and CORRAL_PLUGIN. */
const NO_PLUGIN = "sandbox";

/**
 * Reads the config, picks the plugin entry, applies the flags and resolves
 * the command. Throws SandboxCommandError naming the stage: "config",
 * "usage" (a flag's value) or "command".
 */
export async function planSandbox(flags: SandboxFlags, command: string[], options: PlanOptions = {}): Promise<SandboxPlan> {
  const cwd = options.cwd ?? process.cwd();
  const config = await readConfig(flags, options.defaultConfig ?? DEFAULT_CONFIG);
  let plugin: PluginConfig;
  if (flags.plugin !== undefined) {
    const found = config.config.plugins.find((p) => p.name === flags.plugin);
    if (!found) {
      const names = config.config.plugins.map((p) => p.name);
      throw new SandboxCommandError(
        "config",
        `no plugin named "${flags.plugin}" in ${config.file} (${names.length ? `plugins: ${names.join(", ")}` : "it has no plugins"})`,
      );
    }
    plugin = found;
  } else {
    plugin = pluginSchema.parse({ name: NO_PLUGIN, binary: "/plugin", apiVersion: "1" });
  }
  plugin = applyFlags(plugin, flags, cwd);
  await checkGrants(plugin);
  if (command.length === 0) throw new SandboxCommandError("usage", "no command given: corral sandbox [options] -- CMD [ARGS...]");
  const binary = await resolveCommand(command[0]!, cwd, options.searchPath ?? process.env.PATH ?? "/usr/local/bin:/usr/bin:/bin");
  const { cgroupParent, uidBase, uidCount } = config.config.sandbox;
  return {
    plugin: { ...plugin, binary, args: command.slice(1) },
    binary,
    args: command.slice(1),
    cgroupParent,
    uidBase,
    uidCount,
    runtimeDir: config.config.runtimeDir,
  };
}

/**
 * The config named, else the default one if it exists (its uid range and
 * cgroup parent are the running supervisor's), else the built-in defaults.
 * --plugin needs a config file.
 */
async function readConfig(flags: SandboxFlags, defaultConfig: string): Promise<{ config: Config; file: string }> {
  let file = flags.config;
  if (file === undefined) {
    const exists = existsSync(defaultConfig);
    if (exists || flags.plugin !== undefined) file = defaultConfig;
  }
  try {
    // The built-in defaults pass the same host checks (the sandboxes' ids among them).
    if (file === undefined) return { config: parseConfig("{}", defaultConfig), file: "(built-in defaults)" };
    return { config: await loadConfig(file), file: path.resolve(file) };
  } catch (err) {
    if (err instanceof ConfigError) throw new SandboxCommandError("config", `invalid config\n${err.message}`);
    throw err;
  }
}

const limitsShape = pluginSchema.shape.limits.unwrap().shape;

/** The flags on top of the plugin's entry, each checked by the config's own rule for that field. */
function applyFlags(plugin: PluginConfig, flags: SandboxFlags, cwd: string): PluginConfig {
  const check = <T>(flag: string, schema: { safeParse(v: unknown): { success: true; data: T } | { success: false; error: { issues: { message: string }[] } } }, value: unknown): T => {
    const result = schema.safeParse(value);
    if (result.success) return result.data;
    throw new SandboxCommandError("usage", `--${flag} ${String(value)}: ${result.error.issues.map((i) => i.message).join("; ")}`);
  };
  const number = (flag: string, text: string) => {
    const value = text.trim() === "" ? NaN : Number(text);
    if (!Number.isFinite(value)) throw new SandboxCommandError("usage", `--${flag} ${text}: not a number`);
    return value;
  };
  const limits = { ...plugin.limits };
  if (flags.memory !== undefined) limits.memory = check("memory", limitsShape.memory, flags.memory);
  if (flags.workspace !== undefined) limits.workspace = check("workspace", limitsShape.workspace, flags.workspace);
  if (flags.pids !== undefined) limits.pids = check("pids", limitsShape.pids, number("pids", flags.pids));
  if (flags.cpu !== undefined) limits.cpu = check("cpu", limitsShape.cpu, number("cpu", flags.cpu));
  const network = flags.network === undefined ? plugin.network : check("network", pluginSchema.shape.network, flags.network);

  const env = { ...plugin.env };
  for (const entry of flags.env ?? []) {
    const eq = entry.indexOf("=");
    if (eq <= 0) throw new SandboxCommandError("usage", `--env ${entry}: want NAME=VALUE`);
    const name = entry.slice(0, eq);
    const valid = pluginSchema.shape.env.safeParse({ [name]: "" });
    if (!valid.success) throw new SandboxCommandError("usage", `--env ${entry}: ${valid.error.issues.map((i) => i.message).join("; ")}`);
    env[name] = entry.slice(eq + 1);
  }

  const readOnlyPaths = [...plugin.readOnlyPaths];
  for (const given of flags.ro ?? []) {
    const grant = path.resolve(cwd, given);
    check("ro", pluginSchema.shape.readOnlyPaths, [grant]);
    if (!readOnlyPaths.includes(grant)) readOnlyPaths.push(grant);
  }
  return { ...plugin, limits, network, env, readOnlyPaths };
}

/** Checks the grants exist (a config's were checked at load; the flags' were not). */
async function checkGrants(plugin: PluginConfig): Promise<void> {
  for (const grant of plugin.readOnlyPaths) {
    try {
      statSync(grant);
    } catch (err) {
      const code = (err as NodeJS.ErrnoException).code;
      throw new SandboxCommandError(
        "grants",
        code === "ENOENT" ? `read-only grant ${grant} does not exist on this host` : `read-only grant ${grant}: ${(err as Error).message}`,
      );
    }
  }
}

/** CMD as an absolute host path: as given if it has a slash, else the first executable file on PATH. */
export async function resolveCommand(cmd: string, cwd: string, searchPath: string): Promise<string> {
  const candidates = cmd.includes("/") ? [path.resolve(cwd, cmd)] : searchPath.split(":").map((dir) => path.resolve(cwd, dir || ".", cmd));
  let problem: string | undefined;
  for (const candidate of candidates) {
    // Synchronous, as every file step of a run: a stat is microseconds.
    const info = statSync(candidate, { throwIfNoEntry: false });
    if (!info) continue;
    if (!info.isFile()) {
      problem ??= `${candidate} is not a regular file`;
      continue;
    }
    if ((info.mode & 0o111) === 0 || !executable(candidate)) {
      problem ??= `${candidate} is not executable`;
      continue;
    }
    return candidate;
  }
  throw new SandboxCommandError("command", problem ?? (cmd.includes("/") ? `${candidates[0]} does not exist` : `${cmd}: not found on PATH`));
}

function executable(file: string): boolean {
  try {
    accessSync(file, fsConstants.X_OK);
    return true;
  } catch {
    return false;
  }
}

export interface RunOptions {
  /** The corral-sandbox binary. */
  launcherPath: string;
  /**
   * A launcher taken from a LauncherPool (its ids; its stdio are pipes and
   * stdin is /dev/null), as the supervisor starts plugins. Without it a
   * launcher is started for this run with this process's stdio attached.
   */
  slot?: LaunchSlot;
  /** Signals to forward to the sandbox while it runs (corral sandbox: SIGINT, SIGTERM, SIGHUP). */
  forwardSignals?: NodeJS.Signals[];
  /** Called as the run passes each phase (the benchmark times them). */
  onPhase?: (phase: RunPhase) => void;
}

/**
 * "launched": the launcher is spawned (or a warm one taken); "prepared":
 * instance directory and cgroup made; "init": the init is in its cgroup;
 * "started": the command runs; "exited": the sandbox is gone; "cleaned":
 * everything is given back.
 */
export type RunPhase = "launched" | "prepared" | "init" | "started" | "exited" | "cleaned";

/** How a run ended: the exit status to pass on, and how the sandbox ended. */
export interface SandboxOutcome {
  /** The command's code, 128+n for death by signal n, 125 when setup failed. */
  status: number;
  exit: SandboxExit;
  /** Host pid of the command once it ran. */
  pid?: number;
  /** Something could not be given back (it is swept by the next run). */
  cleanupError?: Error;
}

/** Instance names in use by this process: cli-<pid>, then cli-<pid>-<n> for concurrent runs. */
const active = new Set<string>();
const INSTANCE_NAME = /^cli-(\d+)(?:-\d+)?$/;

/**
 * Runs a plan to the end; never throws for a sandbox failure (see
 * outcome.exit.error). The plan is made by `makePlan` (`() =>
 * planSandbox(...)`), called once the launcher is spawned, so that the
 * launcher starts (a Go program's start-up, on another core) while this
 * thread reads the config. A plan that fails ends the launcher, and
 * runSandbox throws its error.
 */
export async function runSandbox(makePlan: () => Promise<SandboxPlan>, options: RunOptions): Promise<SandboxOutcome> {
  const name = instanceName();
  let plan: SandboxPlan | undefined;
  let planError: unknown;
  let cliDir = "";
  let instanceDir = "";
  let earlyRemoval: Promise<boolean> = Promise.resolve(false);
  let failure: SandboxCommandError | undefined;
  let sandbox: SandboxProcess | undefined;
  let cgroup: InstanceCgroup | undefined;
  let cgroupParentDirs: string[] = [];
  let claim: { locks: UidLocks; uid: number } | undefined;
  let pending: NodeJS.Signals | undefined;
  const phase = options.onPhase ?? (() => {});
  const onSignal = (signal: NodeJS.Signals) => {
    if (!sandbox) pending ??= signal;
    else if (!(signal === "SIGINT" && terminalSignalledBoth(sandbox.pid))) sandbox.signal(signal);
  };
  for (const signal of options.forwardSignals ?? []) process.on(signal, onSignal);

  let exit: SandboxExit;
  let pid: number | undefined;
  // Everything the spec needs, made while the launcher starts (a Go
  // program's start-up, milliseconds): the launcher runs nothing before the
  // spec arrives, and is killed if making it fails.
  //
  // The file steps are synchronous: tens of microseconds each (a cgroup v1
  // memory controller's mkdir is the dearest, 50), where a thread-pool round
  // trip costs more than the step.
  let sweep: Promise<void> = Promise.resolve();
  const makeCgroup = (plan: SandboxPlan, cgroups: CgroupDriver) =>
    stage("cgroup", async () => {
      const limits = pluginCgroupLimits(plan.plugin);
      // What dead runs left can only be in a parent that was there before
      // this run: when it is not, its listing (one cgroupfs readdir per
      // hierarchy, which contends with the sandbox's own set-up in the
      // kernel) is skipped.
      const parentExisted = existsSync(path.dirname(path.dirname(cgroups.open(name).procsFiles[0]!)));
      // A concurrent run may remove the parent between its creation and
      // ours (it removes it when it finds it empty): once more then.
      cgroup = await cgroups.create(name, limits).catch((err: NodeJS.ErrnoException) => {
        if (err.code !== "ENOENT") throw err;
        return cgroups.create(name, limits);
      });
      cgroupParentDirs = [...new Set(cgroup.procsFiles.map((f) => path.dirname(path.dirname(f))))];
      // Best effort, beside the run (the next run tries again); this run's
      // own name is active, so the sweep passes it by.
      sweep = sweepDeadRuns(cliDir, parentExisted ? cgroups : undefined).catch(() => {});
      return cgroup;
    });
  // The owner for the launcher's front to make the namespaces with, early,
  // where that pays: on cgroup v1. On v2 an init made early would have to be
  // moved into its cgroup whole (a kernel RCU grace period, 4-7 ms, 8-33
  // under load), where one cloned after the spec goes straight in
  // (CLONE_INTO_CGROUP). With the host's network the early init, which has
  // a network namespace of its own, would only be discarded. Settled by the
  // planning as soon as it knows, so that the launcher writes it to the
  // front before the rest of the spec is made; undefined when the plan
  // failed.
  let settleOwner!: (ids: SandboxIds | undefined) => void;
  const earlyOwner = new Promise<SandboxIds | undefined>((resolve) => (settleOwner = resolve));
  // The plan, the cgroup driver, and the uid the sandbox runs as (a pooled
  // launcher's, or one claimed here), which the launcher gets ahead of the
  // rest of the spec.
  let beginPlanning!: () => void;
  const planning = new Promise<void>((resolve) => (beginPlanning = resolve)).then(async () => {
    const known = await Promise.resolve().then(makePlan).catch((err: unknown) => {
      planError = err;
      throw err;
    });
    plan = known;
    const openCgroups = () => stage("cgroup", () => openCgroupDriver({ parent: `${known.cgroupParent}-cli` }));
    if (options.slot) {
      settleOwner(undefined); // a pooled launcher's init was made already
      return { known, cgroups: await openCgroups(), ids: options.slot.ids };
    }
    // <runtimeDir>/uids and <runtimeDir>/cli are made on first use and kept,
    // like the supervisor's <runtimeDir>/instances: a run removes what it
    // put in them.
    const locks = new UidLocks(path.join(known.runtimeDir, "uids"));
    const uid = await stage("uid", async () => claimUid(locks, known.uidBase, known.uidCount));
    claim = { locks, uid };
    const ids = { uid, gid: uid };
    const cgroups = await openCgroups();
    settleOwner(cgroups.version === "v1" && known.plugin.network !== "host" ? ids : undefined);
    return { known, cgroups, ids };
  });
  planning.catch(() => settleOwner(undefined)); // awaited by prepare, which tells of the failure
  const prepare = async (): Promise<SandboxSpec> => {
    const { known, cgroups, ids } = await planning;
    cliDir = path.join(known.runtimeDir, "cli");
    instanceDir = path.join(cliDir, name);
    const group = makeCgroup(known, cgroups);
    const dir = stage("instance-dir", async () => {
      try {
        mkdirSync(instanceDir, { mode: 0o700 });
      } catch (err) {
        if ((err as NodeJS.ErrnoException).code !== "ENOENT") throw err;
        mkdirSync(cliDir, { recursive: true, mode: 0o700 });
        mkdirSync(instanceDir, { mode: 0o700 });
      }
      chownSync(instanceDir, ids.uid, ids.gid);
      return ids;
    });
    const [dirResult, groupResult] = await Promise.allSettled([dir, group]);
    if (dirResult.status === "rejected") throw dirResult.reason;
    if (groupResult.status === "rejected") throw groupResult.reason;
    phase("prepared");
    const spec = pluginSandboxSpec(known.plugin, {
      instanceId: name,
      instanceDir,
      binary: known.binary,
      args: known.args,
      uid: dirResult.value.uid,
      gid: dirResult.value.gid,
      cgroupProcs: groupResult.value.procsFiles,
      stdin: options.slot ? "null" : "inherit",
    });
    // No host application looks into a run's /corral: a tmpfs of the
    // sandbox's own, where on instanceDir (the runtime directory's file
    // system, ext4 or the host's /run) a run filled the host's disk and used
    // up its inodes.
    return { ...spec, privateInstanceDir: true };
  };
  const prepared = prepare();
  prepared.catch((err: unknown) => {
    failure ??= err instanceof SandboxCommandError ? err : new SandboxCommandError("prepare", (err as Error).message);
  });
  try {
    // The launcher is spawned first, and starts (a Go program's start-up, on
    // another core) while this thread reads the config and claims the uid.
    // The uid owns the sandbox's namespaces: the launcher's front makes them
    // as soon as it has it (earlyOwner), while the rest of the spec is made,
    // and the init it forks into them moves itself into the spec's cgroups
    // once released. (A pooled launcher's init was cloned into its cgroup
    // before the run.)
    sandbox = options.slot
      ? options.slot.launch(prepared)
      : launchSandbox(prepared, { launcherPath: options.launcherPath, stdio: "inherit", owner: earlyOwner });
    phase("launched");
    beginPlanning();
    // Output that comes through pipes (a pooled launcher's), line by line:
    // relay it. With stdio attached there is none: the command writes to ours.
    sandbox.onOutput((stream, line) => process[stream].write(`${line}\n`));
    if (pending) sandbox.signal(pending);
    sandbox.init.then(() => phase("init"), () => {});
    sandbox.started.then(
      ({ pid: started }) => {
        pid = started;
        phase("started");
      },
      () => {},
    );
    // The instance directory's removal waits in the kernel for the sandbox's
    // mounts of it to be detached: begun as soon as the plugin has exited,
    // it is done while the launcher finishes. Only an empty directory goes
    // here (what is left of the sandbox cannot write into a removed one);
    // one with something in it is removed whole by the cleanup.
    void sandbox.ended.then(() => {
      if (instanceDir) earlyRemoval = rmdir(instanceDir).then(() => true, () => false);
    });
    exit = await sandbox.exited;
    phase("exited");
    await prepared.catch(() => {});
  } catch (err) {
    failure ??= err instanceof SandboxCommandError ? err : new SandboxCommandError("setup", (err as Error).message);
    exit = { code: SETUP_FAILED, error: { stage: failure.stage, message: failure.message } };
  } finally {
    for (const signal of options.forwardSignals ?? []) process.off(signal, onSignal);
  }
  // A failure of ours explains a launcher killed during preparation better than "prepare" does.
  if (failure && exit.error) exit = { code: SETUP_FAILED, error: { stage: failure.stage, message: failure.message } };

  let cleanupError: Error | undefined;
  try {
    await sweep;
    await giveBack({ sandbox, cgroup, instanceDir, earlyRemoval, claim, cgroupParentDirs });
  } catch (err) {
    cleanupError = err as Error;
  } finally {
    active.delete(name);
  }
  phase("cleaned");
  if (!plan) throw planError;
  return {
    status: exitStatus(exit),
    exit,
    ...(pid !== undefined && { pid }),
    ...(cleanupError && { cleanupError }),
  };
}

/**
 * Whether a SIGINT to this process came from its terminal (Ctrl-C) and so
 * reached the launcher too: both in the terminal's foreground process group.
 * Forwarding it as well would interrupt the command twice, and a command
 * that handles SIGINT may take a second one as "quit now". (A kill -INT from
 * elsewhere looks the same while we are in the foreground: then the command
 * is not interrupted, and Ctrl-C does it.)
 */
function terminalSignalledBoth(launcherPid: number | undefined): boolean {
  if (launcherPid === undefined) return false;
  const self = readProcStat("self");
  const launcher = readProcStat(launcherPid);
  if (!self || !launcher) return false;
  return self.tpgid > 0 && self.tpgid === self.pgrp && launcher.pgrp === self.pgrp;
}

/** Runs one setup step; its failure becomes a SandboxCommandError of that stage. */
async function stage<T>(name: string, step: () => Promise<T>): Promise<T> {
  try {
    return await step();
  } catch (err) {
    if (err instanceof SandboxCommandError) throw err;
    throw new SandboxCommandError(name, (err as Error).message);
  }
}

function instanceName(): string {
  let name = `cli-${process.pid}`;
  for (let n = 1; active.has(name); n++) name = `cli-${process.pid}-${n}`;
  active.add(name);
  return name;
}

/** The exit status `corral sandbox` passes on. */
export function exitStatus(exit: SandboxExit): number {
  if (exit.error) return SETUP_FAILED;
  if (exit.signal !== undefined) return 128 + (os.constants.signals[exit.signal as NodeJS.Signals] ?? 0);
  return exit.code ?? SETUP_FAILED;
}

/** Kills what still runs and removes what was made; every step is tried, the first error thrown. */
async function giveBack(parts: {
  sandbox: SandboxProcess | undefined;
  cgroup: InstanceCgroup | undefined;
  instanceDir: string;
  /** True if the instance directory is gone already. */
  earlyRemoval: Promise<boolean>;
  /** The uid this run took (none with a pooled launcher's ids). */
  claim: { locks: UidLocks; uid: number } | undefined;
  cgroupParentDirs: string[];
}): Promise<void> {
  const errors: Error[] = [];
  const attempt = async (step: () => Promise<unknown>) => {
    try {
      await step();
    } catch (err) {
      errors.push(err as Error);
    }
  };
  if (parts.sandbox) {
    const sandbox = parts.sandbox;
    sandbox.kill();
    await sandbox.exited;
  }
  const cgroup = parts.cgroup;
  // The directory and the cgroup (then its parent) go concurrently.
  await Promise.all([
    attempt(async () => {
      if (!(await parts.earlyRemoval)) await removeInstanceDir(parts.instanceDir);
    }),
    attempt(async () => {
      await cgroup?.remove();
      // The parent goes only if no other run is in it: rmdir refuses a
      // cgroup that has children, so this cannot take another run's with it.
      for (const dir of parts.cgroupParentDirs) {
        try {
          rmdirSync(dir);
        } catch (err) {
          const code = (err as NodeJS.ErrnoException).code;
          if (code !== "ENOENT" && code !== "EBUSY" && code !== "ENOTEMPTY") throw err;
        }
      }
    }),
  ]);
  // The uid is free again once nothing runs as it. If the cgroup could not
  // be emptied, its lock is kept, for as long as this process lives.
  const claim = parts.claim;
  if (claim && errors.length === 0) await attempt(async () => claim.locks.give(claim.uid));
  if (errors.length > 0) throw errors[0];
}

/**
 * Removes the run's instance directory, empty unless the command left
 * something in it. On the thread pool, unlike the run's other file steps:
 * it was a mount point in the sandbox's mount namespace, and its removal
 * waits in the kernel for that namespace's mounts to be detached (0.4 ms
 * here), time the cgroup's removal goes on meanwhile.
 */
async function removeInstanceDir(dir: string): Promise<void> {
  if (!dir) return; // the plan failed before there was one
  await rmdir(dir).catch(async (err: NodeJS.ErrnoException) => {
    if (err.code === "ENOENT") return;
    if (err.code !== "ENOTEMPTY" && err.code !== "EEXIST") throw err;
    await removeTree(dir);
  });
}

/**
 * Removes what runs whose process is gone left behind (a `corral sandbox`
 * killed with SIGKILL): their cgroups and instance directories. A run's
 * sandbox dies with it (parent-death signals), so only empty cgroups and
 * files remain; the cgroups are still killed first. (A dead run's uid lock
 * is stale, and taken over by whoever wants that uid next: UidLocks.)
 * Without a driver, only the instance directories.
 */
async function sweepDeadRuns(cliDir: string, driver: Awaited<ReturnType<typeof openCgroupDriver>> | undefined): Promise<void> {
  if (driver) {
    for (const name of await driver.list()) {
      const match = INSTANCE_NAME.exec(name);
      if (!match || processAlive(Number(match[1])) || active.has(name)) continue;
      await driver.open(name).remove();
    }
  }
  for (const entry of readdirSync(cliDir)) {
    const instance = INSTANCE_NAME.exec(entry);
    if (instance && !processAlive(Number(instance[1])) && !active.has(entry)) await removeTree(path.join(cliDir, entry));
  }
}

/**
 * A uid of the sandbox range that nobody holds: not a supervisor's instance
 * or warm launcher, nor another run (they share the locks, UidLocks). Taken
 * from the top of the range down, where a supervisor, which hands out uids
 * from the bottom up and round robin, comes last.
 */
function claimUid(locks: UidLocks, base: number, count: number): number {
  for (let uid = base + count - 1; uid >= base; uid--) if (locks.take(uid)) return uid;
  throw new SandboxCommandError("uid", `every uid of the sandbox range ${base}-${base + count - 1} is in use (sandbox.uidBase, sandbox.uidCount)`);
}
