// The sandbox spec of a plugin instance: what a plugin's config entry
// becomes once the instance's directory, ids and cgroup exist. `corral
// sandbox` builds its spec here so that it runs a command in exactly the
// sandbox a plugin gets; PluginInstance (#prepare) builds the same shape.
import { randomBytes } from "node:crypto";
import { availableParallelism } from "node:os";
import path from "node:path";
import type { CgroupLimits } from "../../sandbox/cgroups/driver.ts";
import type { SandboxSpec } from "../../sandbox/spec.ts";
import type { PluginConfig } from "../config/schema.ts";

/** Paths inside the sandbox (docs/internals.md). */
export const INSIDE_DIR = "/corral";
export const SOCKET_NAME = "plugin.sock";
/** The data socket host applications reach through the plugin's stable address. */
export const DATA_SOCKET_NAME = "data.sock";

/** A new instance's id: its plugin's name and 6 hex digits, so all of a plugin's ids have one length. */
export function newInstanceId(plugin: string): string {
  return `${plugin}-${randomBytes(3).toString("hex")}`;
}

/** Host path of an instance's directory. */
export function instanceDirectory(runtimeDir: string, instanceId: string): string {
  return path.join(runtimeDir, "instances", instanceId);
}

/** What an instance has made for its sandbox. */
export interface InstanceParts {
  instanceId: string;
  /** Host path of the instance directory, mounted at /corral. */
  instanceDir: string;
  /** The executable to run at /plugin (the plugin's release, or a command). */
  binary: string;
  args: string[];
  uid: number;
  gid: number;
  cgroupProcs: string[];
  stdin: SandboxSpec["stdin"];
}

/** The spec of a sandbox confined as `plugin`'s config asks. */
export function pluginSandboxSpec(plugin: PluginConfig, parts: InstanceParts): SandboxSpec {
  return {
    binary: parts.binary,
    args: parts.args,
    env: {
      ...plugin.env,
      CORRAL_INSTANCE_DIR: INSIDE_DIR,
      CORRAL_SOCKET: `${INSIDE_DIR}/${SOCKET_NAME}`,
      // go-shim listens on it from the process's start (go-shim/internal/earlysocket).
      CORRAL_EARLY_SOCKET: `${INSIDE_DIR}/${SOCKET_NAME}`,
      CORRAL_DATA_SOCKET: `${INSIDE_DIR}/${DATA_SOCKET_NAME}`,
      CORRAL_MAX_MESSAGE_SIZE: String(plugin.dataPlane.maxMessageSize),
      CORRAL_MAX_CONNECTION_AGE: `${plugin.dataPlane.maxConnectionAge}ms`,
      CORRAL_MAX_CONNECTION_AGE_GRACE: `${plugin.dataPlane.maxConnectionAgeGrace}ms`,
      CORRAL_INSTANCE_ID: parts.instanceId,
      CORRAL_PLUGIN: plugin.name,
      CORRAL_MEMORY_LIMIT: String(plugin.limits.memory),
      GOMAXPROCS: String(goMaxProcs(plugin.limits.cpu)),
      HOME: "/tmp",
      TMPDIR: "/tmp",
      PATH: "/",
    },
    instanceDir: parts.instanceDir,
    hostname: plugin.name,
    uid: parts.uid,
    gid: parts.gid,
    workspaceBytes: plugin.limits.workspace,
    cgroupProcs: parts.cgroupProcs,
    network: plugin.network,
    readOnlyPaths: plugin.readOnlyPaths,
    stdin: parts.stdin,
    // One uid per instance, so the process count per uid is the instance's.
    // RLIMIT_NPROC is a second line behind pids.max, set above it: the
    // kernel checks it first, and at the same count the cgroup's pids
    // limit (and its event) would never be reached.
    rlimits: { nofile: plugin.limits.openFiles, nproc: plugin.limits.pids * 2, fsizeBytes: plugin.limits.fileSize },
  };
}

/**
 * GOMAXPROCS for a plugin limited to `cores`: the Go runtime's own default
 * under a cgroup limit (Go 1.25+), set here because a sandboxed plugin cannot
 * read its cgroup, and a plugin built with an older Go would not: the limit
 * rounded up, at least 2, at most the host's CPUs. Never 1: one busy
 * goroutine then holds the only P, and every network event waits for the
 * runtime's 10 ms preemption. A spinning plugin at half a core took 44 ms to
 * answer a Control call (1.7 ms idle), the CPU breaker's Park among them.
 */
export function goMaxProcs(cores: number, cpus = availableParallelism()): number {
  return Math.min(cpus, Math.max(2, Math.ceil(cores)));
}

/** The cgroup limits of an instance of `plugin`: no swap on top of its memory. */
export function pluginCgroupLimits(plugin: PluginConfig): CgroupLimits {
  return { memoryBytes: plugin.limits.memory, swapBytes: 0, pids: plugin.limits.pids, cpu: plugin.limits.cpu };
}
