// The config file's shape, its defaults, and the rules for each value. The
// schema is the one place that says what a valid config is; load.ts maps its
// complaints back to file, line and field.
import { z } from "zod";
import { parseDuration, parseSize } from "./units.ts";
import { splitHostPort } from "../host-port.ts";
import { SUPERVISOR_LEAF } from "../../sandbox/cgroups/delegation.ts";

const ENV_NAME = /^[A-Za-z_][A-Za-z0-9_]*$/;

/** A duration of at most `max` ms; the message names the maximum as written. */
const durationAtMost = (max: number, written: string) =>
  z.string().transform((text, ctx) => {
    const ms = parseDuration(text);
    if (ms instanceof Error) {
      ctx.addIssue({ code: "custom", message: ms.message });
      return z.NEVER;
    }
    if (ms > max) {
      ctx.addIssue({ code: "custom", message: `must be at most ${written}` });
      return z.NEVER;
    }
    return ms;
  });

/**
 * Most durations become timers, and a Node timer of more than 2^31-1 ms
 * (24.8 days) fires at once: 25d would make every start time out at once.
 */
const duration = durationAtMost(24 * 86_400_000, "24d");
/** A duration of at least `min` ms, as `duration` otherwise. */
const durationAtLeast = (min: number, written: string) => duration.refine((ms) => ms >= min, `must be at least ${written}`);
/** Certificate lifetimes: compared with dates, or waited for in steps, never one timer. */
const longDuration = durationAtMost(3650 * 86_400_000, "3650d");

const size = z.string().transform((text, ctx) => {
  const bytes = parseSize(text);
  if (bytes instanceof Error) {
    ctx.addIssue({ code: "custom", message: bytes.message });
    return z.NEVER;
  }
  return bytes;
});

/** A size of at least `min` bytes; the message names the minimum as written. */
const sizeAtLeast = (min: number, written: string) =>
  size.refine((bytes) => bytes >= min, `must be at least ${written}`);

/** A host group: a name of /etc/group, or a gid. */
const groupName = z.union([z.string().regex(/^[a-z_][a-z0-9_-]*\$?$/, "must be a group name or a gid"), z.number().int().min(0).max(4294967294, "must be at most 4294967294 (4294967295 is -1, which chown takes as 'leave the group as it is')")]);

/**
 * A plugin's name becomes part of its SPIFFE identity, its cgroup name and
 * its socket paths, so it is kept to a small, path-safe alphabet.
 */
export const pluginName = z
  .string()
  .regex(/^[a-z][a-z0-9-]{0,30}[a-z0-9]$/, "must be 2-32 characters of a-z, 0-9 and '-', starting with a letter");

const limits = z.strictObject({
  memory: sizeAtLeast(4 * 1024 ** 2, "4MiB").prefault("128MiB"),
  pids: z.number().int().min(8).max(65536).default(128),
  /** CPU allowance in cores (0.5 = half a core); enforced as a CFS quota. */
  cpu: z.number().min(0.01, "must be at least 0.01 (the kernel's least CPU quota: 1 ms in each 100 ms)").max(1024).default(1),
  /** Size of the private tmpfs workspace at /tmp inside the sandbox. */
  workspace: sizeAtLeast(1024 ** 2, "1MiB").prefault("16MiB"),
  /** Open file descriptors (RLIMIT_NOFILE). */
  openFiles: z.number().int().min(16).max(1 << 20).default(1024),
  /** Largest file the plugin may write (RLIMIT_FSIZE). */
  fileSize: sizeAtLeast(1024, "1KiB").prefault("64MiB"),
});

const restart = z.strictObject({
  // 0 would restart a crashing plugin in a tight loop until its quarantine.
  initialBackoff: durationAtLeast(1, "1ms").prefault("500ms"),
  /** The cap of the backoff's growth; below initialBackoff, initialBackoff is the wait (crash-policy.ts). */
  maxBackoff: duration.prefault("30s"),
  multiplier: z.number().min(1).max(10).default(2),
  /** A plugin that crashes this many times within quarantineWindow is quarantined. */
  quarantineAfter: z.number().int().min(1).default(5),
  // 0 would count no crash at all, and never quarantine.
  quarantineWindow: durationAtLeast(1000, "1s").prefault("60s"),
  /** Time in ready after which the backoff starts again from initialBackoff. */
  resetAfter: duration.prefault("60s"),
});

/** The CPU breaker (DESIGN.md §6): defaults as there, escalation as supervisor/breakers/config.ts has it. */
const cpuBreaker = z.strictObject({
  /** Trips above this share of the plugin's CPU allowance... */
  threshold: z.number().min(1).max(100).default(85),
  /** ...held for this long. */
  window: duration.prefault("30s"),
  /** Stopped (SIGSTOP) this long, then resumed on probation. */
  coolDown: duration.prefault("60s"),
  /** Closes after this long below the threshold on probation. */
  probation: duration.prefault("60s"),
  /** Each trip within `period` multiplies the cool-down; at `restartAfter` trips the instance is restarted, at `quarantineAfter` quarantined. */
  coolDownMultiplier: z.number().min(1).max(10).default(2),
  restartAfter: z.number().int().min(1).default(3),
  quarantineAfter: z.number().int().min(1).default(5),
  period: duration.prefault("10m"),
}).superRefine((cpu, ctx) => {
  // What CpuBreaker refuses (breakers/config.ts), refused here, naming the field.
  for (const field of ["window", "coolDown", "probation", "period"] as const) {
    if (!(cpu[field] > 0)) ctx.addIssue({ code: "custom", path: [field], message: "must be longer than 0" });
  }
  if (cpu.quarantineAfter <= cpu.restartAfter) {
    ctx.addIssue({ code: "custom", path: ["quarantineAfter"], message: `must be above restartAfter (${cpu.restartAfter})` });
  }
});

/** The original design's warning signs (DESIGN.md §6): each raises an alert; defaults as breakers/config.ts has them. */
const warningSigns = z.strictObject({
  /** Open fds that never decrease across `window`, growing at least `minPerSecond`, in both its halves (at least `samples` counts). */
  fdGrowth: z
    .strictObject({
      // At most an hour: the counts of the window are kept, one every 5th sample.
      window: durationAtMost(3_600_000, "1h").refine((ms) => ms >= 1000, "must be at least 1s").prefault("5m"),
      samples: z.number().int().min(2).default(5),
      minPerSecond: z.number().positive().default(0.5),
    })
    .prefault({}),
  /** Goroutines rising faster than this many per 100 ms between samples. */
  goroutineRise: z.strictObject({ per100ms: z.number().int().min(1).default(150) }).prefault({}),
  /** HeapSys − HeapInuse growing over `gcs` collections in a row, by at least minGrowth in all. */
  heapGrowth: z.strictObject({ gcs: z.number().int().min(2).default(4), minGrowth: sizeAtLeast(1, "1B").prefault("8MiB") }).prefault({}),
  /** This many restarts within `period`. */
  // A period of 0 keeps no earlier restart to count: the alert could never be raised.
  restartLoop: z.strictObject({ restarts: z.number().int().min(2).default(3), period: duration.refine((ms) => ms >= 1000, "must be at least 1s").prefault("5m") }).prefault({}),
});

const breakers = z.strictObject({
  cpu: cpuBreaker.prefault({}),
  /** Above this many goroutines: a GC is forced, a dump captured, and an alert raised until acknowledged. */
  goroutines: z.strictObject({ threshold: z.number().int().min(10).default(5000) }).prefault({}),
  warningSigns: warningSigns.prefault({}),
});

/** host:port of a TCP listener, e.g. 127.0.0.1:7443 or [::1]:7443. */
const hostPort = z
  .string()
  .regex(/^(\[[0-9A-Fa-f:.]+\]|[A-Za-z0-9.-]+):(\d{1,5})$/, 'must be "host:port", e.g. "127.0.0.1:7443"')
  .refine((text) => {
    const { port } = splitHostPort(text);
    return port >= 0 && port <= 65535;
  }, "port must be 0-65535 (0: any free port, shown by corralctl describe)");

/** The plugin's stable address for host applications (DESIGN.md §8). */
const dataPlane = z.strictObject({
  /** Also listen on TCP here (mTLS end to end, relayed to the stable Unix socket). Default: Unix socket only. */
  tcp: hostPort.optional(),
  /** Largest message either way on the plugin's data socket. */
  maxMessageSize: sizeAtLeast(1024, "1KiB")
    .refine((bytes) => bytes <= 1024 ** 3, "must be at most 1GiB (gRPC counts message sizes in 32 bits)")
    .prefault("4MiB"),
  /**
   * A connection to the plugin older than this (±10 %) is asked to go away
   * (GOAWAY), so that its client reconnects with the certificates and
   * revocations of now; a stream that must outlive it is ended after
   * maxConnectionAgeGrace, and its client calls again.
   */
  maxConnectionAge: duration.refine((ms) => ms >= 1000, "must be at least 1s").prefault("10m"),
  maxConnectionAgeGrace: duration.refine((ms) => ms >= 1000, "must be at least 1s").prefault("30s"),
});

/** How much of the plugin's stdout/stderr reaches the journal and `corralctl logs`. */
const output = z.strictObject({
  /** Lines per second on average (token bucket); what is over is dropped and counted. */
  rate: z.number().int().min(1).max(100_000).default(200),
  /** Lines let through at once, before the rate applies. */
  burst: z.number().int().min(1).max(1_000_000).default(1000),
  /** Longer lines are cut. A line is held whole until it ends: bounded, as 512MiB and more was past what a string may hold, and ended the supervisor. */
  maxLineLength: sizeAtLeast(80, "80B")
    .refine((bytes) => bytes <= 1024 ** 2, "must be at most 1MiB (a line is held in memory whole, in the supervisor and in each log ring)")
    .prefault("16KiB"),
  /**
   * stdout and stderr together are read no faster than this (a second's
   * worth at once); over it, the plugin's writes wait. Bounds what a plugin
   * that floods its output costs the supervisor.
   */
  maxBytesPerSecond: sizeAtLeast(256 * 1024, "256KiB").prefault("4MiB"),
});

const releases = z.strictObject({
  /**
   * Releases kept for rollback besides the current one and the one a deploy
   * replaced (the rollback's target, always kept): `keep: 1` leaves two.
   */
  keep: z.number().int().min(1).max(1000).default(5),
});

const apiVersion = z
  .string()
  .regex(/^\d+(\.\d+)?$/, 'must be "MAJOR" or "MAJOR.MINOR", e.g. "1" or "1.2"');

export const pluginSchema = z.strictObject({
  name: pluginName,
  /** The plugin's binary; imported into the release store (content-addressed) at start. */
  binary: z.string().min(1),
  args: z.array(z.string()).default([]),
  /** The plugin's environment, besides the CORRAL_* variables. Nothing else is inherited. */
  env: z
    .record(z.string(), z.string())
    .superRefine((env, ctx) => {
      // Checked here rather than as the record's key schema, whose failure says only "Invalid key in record".
      for (const name of Object.keys(env)) {
        if (!ENV_NAME.test(name)) ctx.addIssue({ code: "custom", path: [name], message: `${JSON.stringify(name)} is not a valid environment variable name` });
      }
    })
    .default({}),
  /** The API version the hosts expect: same MAJOR, and at least MINOR. */
  apiVersion,
  limits: limits.prefault({}),
  /** "none": loopback only (the default); "host": the host's network, an explicit opt-in. */
  network: z.enum(["none", "host"]).default("none"),
  /**
   * Host paths granted read-only at the same path inside, e.g. for a
   * dynamically linked binary. Must exist, and keep out of runtimeDir and
   * stateDir. Read-only stops writes to files, not a connect(2) to a Unix
   * socket or a write into a FIFO: a grant of /run, /var/run or /dev/shm is
   * warned of (sandbox/grants.ts).
   */
  readOnlyPaths: z
    .array(z.string().regex(/^\/(?!.*(^|\/)\.\.?(\/|$)).+$/, "must be an absolute path below / without . or .."))
    .default([]),
  // 0 would fail every start: a plugin that could never become ready.
  startTimeout: durationAtLeast(100, "100ms").prefault("10s"),
  /** Upper bound for draining in-flight calls when the plugin stops. */
  stopTimeout: duration.prefault("5s"),
  restart: restart.prefault({}),
  /** How often the instance's CPU, memory, fds and Go runtime are sampled. */
  // 0 would sample without pause, a share of the supervisor's core per plugin.
  sampleInterval: durationAtLeast(100, "100ms").prefault("1s"),
  breakers: breakers.prefault({}),
  dataPlane: dataPlane.prefault({}),
  releases: releases.prefault({}),
  output: output.prefault({}),
  /** Lifetime of the instance's leaf certificate. */
  // A certificate's times are whole seconds: a leaf of under 2 s could be
  // expired when it is issued (0s made every start fail, naming no field).
  certificateTtl: longDuration.refine((ms) => ms >= 2000, "must be at least 2s").prefault("24h"),
  /**
   * An operator-provided certificate for the plugin, from Corral's CA, instead
   * of one Corral issues per instance: checked at every start (chain, plugin
   * ID, key, at least minValidity left) and never rotated by Corral.
   */
  certificate: z
    .strictObject({
      cert: z.string().min(1),
      key: z.string().min(1),
      minValidity: longDuration.prefault("7d"),
    })
    .optional(),
});

const sandbox = z.strictObject({
  /** The cgroup Corral creates beneath its own cgroup to hold instance cgroups. */
  cgroupParent: z
    .string()
    .regex(/^[A-Za-z0-9][A-Za-z0-9_.-]*$/, "must be a single cgroup name")
    // On cgroup v2 the supervisor's own leaf has that name (sandbox/cgroups/delegation.ts).
    .refine((name) => name !== SUPERVISOR_LEAF, `must not be "${SUPERVISOR_LEAF}", the supervisor's own cgroup on cgroup v2`)
    .default("corral"),
  /** Host uids/gids for instances: root inside a sandbox maps to one of these. */
  // Above the subordinate ids useradd hands out (100000 to 600100000 in blocks
  // of 65536) and systemd's container range (524288-1879048191).
  uidBase: z.number().int().min(1000).max(2 ** 31).default(2_000_000_000),
  uidCount: z.number().int().min(1).max(65536).default(1000),
});

export const configSchema = z
  .strictObject({
    /** CA, releases and diagnostics. Relative paths are relative to the config file. */
    stateDir: z.string().min(1).default("/var/lib/corral"),
    /** Sockets and instance directories. Keep it short: socket paths must stay under 108 bytes. */
    runtimeDir: z.string().min(1).default("/run/corral"),
    trustDomain: z
      .string()
      // Labels of letters, digits and inner hyphens, one dot between each:
      // Go's x509 refuses a URI SAN whose host has an empty label
      // (corral..local), so no plugin could load its certificate, and the
      // CA is made with the name.
      .regex(/^[a-z0-9]([a-z0-9-]*[a-z0-9])?(\.[a-z0-9]([a-z0-9-]*[a-z0-9])?)*$/, "must be a DNS-like name of dot-separated labels, e.g. corral.local")
      .default("corral.local"),
    admin: z
      .strictObject({
        /** Default: <runtimeDir>/admin.sock */
        socket: z.string().min(1).optional(),
        /**
         * A group (name or gid) whose members may connect to the admin socket
         * (mode 0660); they still need an admin certificate (corralctl certs
         * issue --role admin). Default: root only (0600).
         */
        group: groupName.optional(),
      })
      .prefault({}),
    /** The plugins' data plane as host applications reach it. */
    dataPlane: z
      .strictObject({
        /**
         * A group (name or gid) whose members, besides root, may connect to
         * the plugins' stable addresses: the directories the addresses lead
         * into (the instances' and the refusals') are then 0710, root and
         * this group. Default: any local user may connect (0711), and the
         * certificate decides who may call; a user who may connect can also
         * hold a plugin's connection slots and handshakes.
         */
        group: groupName.optional(),
      })
      .prefault({}),
    sandbox: sandbox.prefault({}),
    metrics: z
      .strictObject({
        /** Serve Prometheus metrics at http://<listen>/metrics, e.g. "127.0.0.1:9464". Off when absent. */
        listen: hostPort.optional(),
      })
      .prefault({}),
    /**
     * What the evidence of trips (goroutine dumps, profiles) may take of the
     * state directory: per plugin, the newest maxFilesPerPlugin files within
     * maxBytesPerPlugin; in all, plugins no longer configured included,
     * maxBytes, the oldest going first.
     */
    diagnostics: z
      .strictObject({
        maxFilesPerPlugin: z.number().int().min(1).max(10_000).default(50),
        maxBytesPerPlugin: sizeAtLeast(16 * 1024 ** 2, "16MiB").prefault("256MiB"),
        maxBytes: sizeAtLeast(16 * 1024 ** 2, "16MiB").prefault("1GiB"),
      })
      .prefault({}),
    plugins: z.array(pluginSchema).default([]),
  });

/** The config as validated, before paths are resolved. */
export type ParsedConfig = z.output<typeof configSchema>;
/** The config as the supervisor uses it: paths absolute, defaults derived. */
export type Config = Omit<ParsedConfig, "admin"> & { admin: Omit<ParsedConfig["admin"], "socket"> & { socket: string } };
export type PluginConfig = z.output<typeof pluginSchema>;
export type Limits = PluginConfig["limits"];
export type RestartPolicy = PluginConfig["restart"];
