// One instance: one sandboxed process tree running one release of a plugin.
// It owns everything it creates (instance directory, certificate, cgroup,
// uid, launcher process, Control channel) and gives all of it back exactly
// once, whichever way it ends.
import { status as grpcStatus } from "@grpc/grpc-js";
import path from "node:path";
import type { HandshakeResponse__Output } from "../../proto/gen/ts/corral/plugin/v1/HandshakeResponse.ts";
import type { CallStatsResponse__Output } from "../../proto/gen/ts/corral/plugin/v1/CallStatsResponse.ts";
import type { MethodCalls__Output } from "../../proto/gen/ts/corral/plugin/v1/MethodCalls.ts";
import type { InstanceCgroup } from "../../sandbox/cgroups/driver.ts";
import type { SandboxProcess } from "../../sandbox/launcher.ts";
import type { LaunchSlot, SandboxIds } from "../../sandbox/launcher-pool.ts";
import type { SandboxSpec } from "../../sandbox/spec.ts";
import type { PluginConfig } from "../config/schema.ts";
import type { Logger } from "../log.ts";
import { IdentityError, parsePeerIdentity, type IssuedLeaf } from "../identity/index.ts";
import { RotatingLeaf } from "../identity/rotating-leaf.ts";
import type { Release } from "../releases/store.ts";
import type { InstanceEnvironment } from "./environment.ts";
import { ControlChannel, ControlChannelClosed, RpcError } from "./control-channel.ts";
import { describeExit, LastWords } from "./exit-reason.ts";
import type { Sample } from "./sampler.ts";
import type { Verdict } from "./cpu-guard.ts";
import { InstanceMonitor } from "./monitor.ts";
import { captureDiagnostics } from "../diagnostics/capture.ts";
import { DATA_SOCKET_NAME, instanceDirectory, newInstanceId, pluginCgroupLimits, pluginSandboxSpec, SOCKET_NAME } from "./sandbox-spec.ts";
import { IncompatiblePlugin } from "./compatibility.ts";
import { refusedReply } from "./control-replies.ts";
import { replaceFile } from "../replace-file.ts";
import { writeInstanceFiles } from "./instance-files.ts";
import type { Instance } from "./controller.ts";
import { parkThenStop } from "./park-then-stop.ts";
import { signalAll } from "./signal-all.ts";
import { forwardOutput } from "./instance-output.ts";
import { InstanceCrl } from "./instance-crl.ts";
import { removeTree } from "../remove-tree.ts";
import { PublishedSocket } from "../dataplane/published-socket.ts";

/**
 * Sampling begins this long after the instance is ready (measured: the
 * host's first call, on a new connection right after Start, took 0.5 ms
 * longer with the Stats stream opened at once). The kernel enforces the
 * limits from the start; the breakers watch for sustained trouble.
 */
const SAMPLING_DELAY_MS = 100;
/** Calls in flight on the data socket get this long when an operator pauses the instance. */
const PAUSE_PARK_GRACE_MS = 200;

export class PluginInstance implements Instance {
  readonly id: string;
  readonly release: string;
  readonly #plugin: PluginConfig;
  readonly #env: InstanceEnvironment;
  readonly #dir: string;
  readonly #published: PublishedSocket;
  /** A CallStats reply was refused (control-replies.ts), and said so. */
  #callStatsRefused = false;
  readonly #log: Logger;
  readonly #uid: number;
  readonly #gid: number;
  #cgroup: InstanceCgroup | undefined;
  #sandbox: SandboxProcess | undefined;
  #channel: ControlChannel | undefined;
  #monitor: InstanceMonitor | undefined;
  #samplingDelay: NodeJS.Timeout | undefined;
  /** The diagnostics capture under way (the last queued), which later askers share, and its CPU profile's length. */
  #capturing: { files: Promise<string[]>; cpuMs: number } | undefined;
  readonly #crl: InstanceCrl;
  #verdict: Verdict | undefined;
  #leaf: RotatingLeaf | undefined;
  #pid: number | undefined;
  #handshake: HandshakeResponse__Output | undefined;
  #cleanup: Promise<void> | undefined;
  /** An operator paused it: its processes are stopped and its data socket parked. */
  #paused = false;
  /** Draining (stop() was called): its Control connection goes with the drain's GOAWAY. */
  #stopping = false;
  /** The last operator's pause, while it parks and stops: resume and stop wait for it. */
  #pausing: Promise<unknown> | undefined;
  readonly exited: Promise<string>;
  /** Its sandbox failed to set up: the plugin never ran. */
  #neverRan = false;
  /** What the plugin said last on stderr, and how it ended, the two parts of the reason `exited` gives. */
  readonly #lastWords = new LastWords();
  #ended = { how: "", said: "" };
  #resolveExited!: (how: string) => void;

  private constructor(plugin: PluginConfig, env: InstanceEnvironment, release: Release, ids: SandboxIds) {
    this.id = newInstanceId(plugin.name);
    this.release = release.sha256;
    this.#plugin = plugin;
    this.#env = env;
    this.#uid = ids.uid;
    this.#gid = ids.gid;
    this.#dir = instanceDirectory(env.runtimeDir, this.id);
    this.#published = new PublishedSocket(path.join(this.#dir, DATA_SOCKET_NAME), this.#dir);
    this.#log = env.logger.child({ plugin: plugin.name, instance: this.id });
    this.#crl = new InstanceCrl(this.#dir, this.#log, () => this.#channel);
    this.exited = new Promise((resolve) => (this.#resolveExited = resolve));
  }

  get pid(): number | undefined {
    return this.#pid;
  }
  get pluginVersion(): string | undefined {
    return this.#handshake?.pluginVersion;
  }
  get apiVersion(): string | undefined {
    return this.#handshake?.apiVersion;
  }
  /** The instance directory on the host. */
  get directory(): string {
    return this.#dir;
  }
  /** Serial of the instance's current certificate. */
  get certificateSerial(): string | undefined {
    return this.#leaf?.current.serialHex;
  }
  /** When the instance's current certificate expires. */
  get certificateNotAfter(): Date | undefined {
    return this.#leaf?.current.notAfter;
  }
  /** The identity the instance's certificates carry. */
  get identity(): string {
    return this.#leaf ? parsePeerIdentity(this.#leaf.current.certPem).uri : "";
  }
  get socketPath(): string {
    return path.join(this.#dir, SOCKET_NAME);
  }
  /** Publishes the data socket anew (dataplane/published-socket.ts; after a park the plugin listens on a new one); returns where. */
  publishDataSocket(): string {
    if (this.#cleanup) throw new Error(`instance ${this.id} is gone`);
    return this.#published.publish();
  }

  /** Creates the instance of `sha256` (the current release if not given) and launches its sandbox; readiness is awaited with ready(). */
  static async launch(plugin: PluginConfig, env: InstanceEnvironment, sha256?: string): Promise<PluginInstance> {
    const release = await env.release(plugin.name, sha256);
    const slot = env.launchers.acquire();
    const instance = new PluginInstance(plugin, env, release, slot.ids);
    try {
      await instance.#launch(release, slot);
    } catch (err) {
      await instance.destroy();
      // A certificate refused (a revoked identity, an operator's certificate
      // that fails a rule) stays refused: retrying cannot help.
      if (err instanceof IdentityError) throw new IncompatiblePlugin(`certificate refused: ${err.message}`);
      throw err;
    }
    return instance;
  }

  /**
   * Starts the launcher first and prepares the spec meanwhile: the sandbox's
   * namespaces come up while the certificate and cgroup are made, so the
   * plugin starts sooner. The launcher runs nothing before it has the spec.
   */
  async #launch(release: Release, slot: LaunchSlot): Promise<void> {
    const spec = this.#prepare(release, slot);
    const sandbox = slot.launch(spec);
    this.#sandbox = sandbox;
    forwardOutput(sandbox, {
      plugin: this.#plugin,
      instance: this.id,
      log: this.#log,
      ring: this.#env.outputRing(this.#plugin.name),
      counts: this.#env.outputCounts(this.#plugin.name),
    });
    sandbox.onOutput((stream, line) => this.#lastWords.see(stream, line));
    // On cgroup v1 the kill of one process is told at once, not at the next sample.
    sandbox.onOom(() => this.#monitor?.checkOomKills());
    sandbox.started.then(
      ({ pid }) => {
        this.#pid = pid;
        this.#log.info({ pid, release: this.release, cgroup: this.#cgroup?.name }, "plugin process started");
      },
      () => {}, // reported through exited
    );
    void sandbox.exited.then(async (exit) => {
      // Read before the cgroup is removed: #release waits for this.exited.
      const events = await this.#cgroup?.events().catch(() => undefined);
      const said = this.#verdict ? "" : this.#lastWords.after(exit);
      this.#ended = { how: this.#verdict?.reason ?? describeExit(exit, events, this.#plugin.limits.memory), said };
      const how = this.#ended.how + said;
      this.#log.info({ code: exit.code, signal: exit.signal, ...events }, `plugin ${how}`);
      if (events && events.pidsLimitHits > 0) {
        this.#log.warn({ pidsLimitHits: events.pidsLimitHits, pids: this.#plugin.limits.pids }, "the plugin hit its pids limit");
      }
      // The memory breaker is the kernel's: its trip, an OOM kill, is a breaker event too (counted, in `corralctl events`).
      if (events && events.oomKills > 0) {
        this.#env.breakerEvent({ plugin: this.#plugin.name, instance: this.id, state: "oom-kill", message: `memory breaker: ${how}` });
      }
      this.#neverRan = exit.error !== undefined;
      this.#resolveExited(how);
    });
    await spec;
  }

  /** Instance directory and certificate, and cgroup, made concurrently; resolves with the sandbox spec. */
  async #prepare(release: Release, slot: LaunchSlot): Promise<SandboxSpec> {
    const plugin = this.#plugin;
    const files = (async () => {
      const operator = plugin.certificate;
      this.#leaf = await RotatingLeaf.start({
        // Corral's own leaf renews itself; an operator's is re-read and re-checked on rotate.
        issue: operator
          ? () => this.#env.operatorLeaf(plugin.name, operator)
          : () => this.#env.issuePluginLeaf(plugin.name, plugin.certificateTtl),
        renew: !operator,
        caPem: this.#env.caPem,
        onRotate: (result) => void this.#onLeafRenewed(result),
      });
      const { keyPem, certPem } = this.#leaf.current;
      const crlPem = this.#env.crlPem();
      writeInstanceFiles(this.#dir, { uid: this.#uid, gid: this.#gid }, { caPem: this.#env.caPem, crlPem, keyPem, certPem });
      this.#crl.written(crlPem);
    })();
    // A warm launcher comes with its cgroup, the init already in it: only
    // the plugin's limits are left to set.
    const cgroup = slot.cgroup
      ? ((this.#cgroup = slot.cgroup), slot.cgroup.setLimits(pluginCgroupLimits(plugin)).then(() => slot.cgroup!))
      : this.#env.cgroups.create(this.id, pluginCgroupLimits(plugin)).then((created) => (this.#cgroup = created));
    // Settle both before failing, so nothing half-made escapes destroy().
    const [, created] = await Promise.all([files, cgroup].map((p) => p.then((v) => ({ v }), (e: unknown) => ({ e })))).then(
      (results) => {
        const failed = results.find((r): r is { e: unknown } => "e" in r);
        if (failed) throw failed.e;
        return results.map((r) => (r as { v: unknown }).v) as [void, InstanceCgroup];
      },
    );
    return pluginSandboxSpec(plugin, {
      instanceId: this.id,
      instanceDir: this.#dir,
      binary: release.binary,
      args: plugin.args,
      uid: this.#uid,
      gid: this.#gid,
      cgroupProcs: created.procsFiles,
      stdin: "null",
    });
  }

  /**
   * Writes a leaf into the instance directory, each file replaced whole
   * (temporary file + rename), the key first. go-shim picks the new pair up
   * for new connections and keeps serving with the old one until both match.
   */
  async #writeLeaf(leaf: IssuedLeaf): Promise<void> {
    const owner = { uid: this.#uid, gid: this.#gid };
    await replaceFile(path.join(this.#dir, "key.pem"), leaf.keyPem, 0o600, owner);
    await replaceFile(path.join(this.#dir, "cert.pem"), leaf.certPem, 0o644, owner);
  }

  async #onLeafRenewed(result: IssuedLeaf | Error): Promise<void> {
    if (result instanceof Error) {
      this.#log.error({ err: result.message }, "renewing the instance's certificate failed; it keeps the current one");
      return;
    }
    try {
      await this.#writeLeaf(result);
      this.#log.info({ serial: result.serialHex, notAfter: result.notAfter }, "renewed the instance's certificate");
    } catch (err) {
      this.#log.error({ err: (err as Error).message }, "writing the renewed certificate failed");
    }
  }

  /**
   * Renews the instance's certificate now (corralctl certs rotate, or its
   * current one was revoked), and reconnects the Control channel so no
   * connection of the supervisor's rests on the old certificate.
   */
  async rotateCertificate(): Promise<void> {
    if (!this.#leaf) throw new Error(`instance ${this.id} has no certificate yet`);
    if (this.#cleanup) return; // going away: its directory is being removed
    await this.#onLeafRenewed(await this.#leaf.rotate());
    if (this.#channel && !this.#cleanup) {
      this.#channel.close();
      this.#channel = this.#newChannel();
    }
  }

  /** A Control channel to the instance socket, checking the plugin's identity. */
  #newChannel(): ControlChannel {
    return new ControlChannel(this.socketPath, this.#env.controlCredentials(this.#plugin.name));
  }

  /**
   * Handshake and health on the instance's Control channel, again on the
   * new one when a certificate rotation replaces it meanwhile.
   */
  async #awaitReady(signal: AbortSignal): Promise<HandshakeResponse__Output> {
    for (;;) {
      const channel = this.#channel!;
      try {
        return await channel.awaitReady({ pluginName: this.#plugin.name, apiVersion: this.#plugin.apiVersion }, signal);
      } catch (err) {
        if (!(err instanceof ControlChannelClosed) || this.#channel === channel || signal.aborted) throw err;
      }
    }
  }

  /** Waits for the socket, then handshake and health; rejects with the reason it is not ready. */
  async ready(signal: AbortSignal): Promise<void> {
    const sandbox = this.#sandbox;
    if (!sandbox) throw new Error("instance was not launched");
    const gone = this.exited.then((how) => {
      // "sandbox setup failed at …" already says the plugin never ran.
      throw new Error(this.#neverRan ? how : `${this.#ended.how} before it was ready${this.#ended.said}`);
    });
    gone.catch(() => {});
    const steps = (async () => {
      // Not waiting for the launcher's word that the plugin started: the
      // socket's watch is then in place before the plugin can bind it.
      this.#channel = this.#newChannel();
      const handshake = await this.#awaitReady(signal);
      this.#handshake = handshake;
      // The launcher's word of the plugin's pid comes on another pipe, and
      // may come after its handshake on a busy host: a start answered before
      // it said "pid 0".
      await sandbox.started;
      // A CRL published after the instance's files were written, before a
      // publication would reach it (its owner had not counted it yet), is
      // put in force before it takes calls.
      const published = this.#env.crlPem();
      if (published !== this.#crl.pem) await this.takeCrl({ pem: published });
      this.#log.info(
        // How many methods, not their names: a plugin may say up to 10 000.
        { pluginVersion: handshake.pluginVersion, apiVersion: handshake.apiVersion, methods: handshake.methods.length },
        "handshake complete",
      );
      // A little after the start has been answered: the monitor's first
      // sample and its Stats stream are not what the caller waits for, and
      // would take the plugin's time from its first calls.
      this.#samplingDelay = setTimeout(() => this.#startSampling(), SAMPLING_DELAY_MS);
    })();
    try {
      await Promise.race([steps, gone]);
    } catch (err) {
      // A plugin that dies mid-handshake shows first as a reset connection;
      // its exit says more, and usually follows within moments.
      if (err instanceof IncompatiblePlugin || signal.aborted) throw err;
      if (await settlesWithin(this.exited, 250)) await gone;
      throw err;
    }
  }

  /** The latest sample of the instance's CPU, memory, fds and Go runtime. */
  get usage(): Sample | undefined {
    return this.#monitor?.latest;
  }
  /** The CPU breaker's state, and why it is open when it is. */
  get cpuBreaker(): { state: string; reason: string | undefined } | undefined {
    return this.#monitor?.cpuBreaker;
  }
  /** A breaker's restart or quarantine verdict, when one ended the instance. */
  get verdict(): Verdict | undefined {
    return this.#verdict;
  }

  #startSampling(): void {
    const cgroup = this.#cgroup;
    if (!cgroup || this.#cleanup) return;
    this.#monitor = new InstanceMonitor({
      plugin: this.#plugin,
      cgroup,
      channel: () => this.#channel!,
      pid: () => this.#pid,
      cpuBreaker: this.#env.cpuBreaker(this.#plugin),
      alerts: this.#env.alerts,
      log: this.#log,
      capture: (why, cpuMs) => this.captureDiagnostics(why, cpuMs),
      onVerdict: (verdict) => {
        this.#verdict ??= verdict;
        void this.destroy();
      },
      onBreakerEvent: (state, message) => this.#env.breakerEvent({ plugin: this.#plugin.name, instance: this.id, state, message }),
      onOomKill: (kills) => {
        // A process the kernel picked is gone, and what is left of the
        // instance may be in no state to serve: ended whole, as on cgroup v2
        // (memory.oom.group), to be reported and restarted as an OOM kill.
        this.#log.warn({ oomKills: kills }, "the kernel's OOM killer killed a process of the instance; ending the instance");
        this.#cgroup?.killAll().catch((err: Error) => this.#log.error({ err: err.message }, "ending the instance after an OOM kill failed"));
      },
      pause: {
        park: async (reason, graceMs) => {
          this.#env.address(this.#plugin.name)?.hold(this.id, reason);
          return (await this.#channel?.park(graceMs, reason)) ?? false;
        },
        unpark: async () => {
          await this.#channel?.unpark();
          this.#env.address(this.#plugin.name)?.release(this.id);
        },
        operatorPaused: () => this.#paused,
      },
    });
  }


  /**
   * Captures a goroutine dump and a heap profile (and, with cpuMs, a CPU
   * profile first) into the diagnostics store, each bounded in time and size.
   * Resolves with the files; a capture that fails is logged, not thrown.
   */
  captureDiagnostics(why: string, cpuMs = 0): Promise<string[]> {
    const channel = this.#channel;
    if (!channel) return Promise.resolve([]);
    // One at a time (each holds up to 16 MiB per profile): a second asker
    // gets the capture under way when it takes as long a CPU profile, else
    // one of its own after it.
    const running = this.#capturing;
    if (running && running.cpuMs >= cpuMs) return running.files;
    const files: Promise<string[]> = (running?.files.catch(() => []) ?? Promise.resolve([]))
      .then(() => captureDiagnostics({ channel, store: this.#env.diagnostics, plugin: this.#plugin.name, instance: this.id, log: this.#log, why, cpuMs }))
      .finally(() => {
        if (this.#capturing?.files === files) this.#capturing = undefined;
      });
    this.#capturing = { files, cpuMs };
    return files;
  }

  /**
   * The instance's calls since it started (Control.CallStats), of the
   * methods its handshake declared (the plugin is not trusted to name
   * others), or undefined when it has no Control channel, is paused (its
   * stopped processes could not answer) or is being destroyed.
   */
  async callStats(signal?: AbortSignal): Promise<CallStatsResponse__Output | undefined> {
    if (!this.#channel || !this.#handshake || this.#paused || this.#cleanup) return undefined;
    const declared = new Set(this.#handshake.methods);
    const stats = await this.#channel.callStats(signal).catch((err: RpcError) => {
      // Its counts are missing from the metrics: said once, not at every scrape.
      const refusal = refusedReply(err);
      if (refusal && !this.#callStatsRefused) this.#log.warn({ err: refusal }, "the plugin's call counts were refused: its calls are left out of the metrics");
      this.#callStatsRefused ||= refusal !== undefined;
      throw err;
    });
    return { methods: stats.methods.filter((m) => declared.has(m.method)) };
  }

  /**
   * Puts a newly published CRL in force: written into the instance
   * directory, and go-shim told to load it (warning unless the list then in
   * force is `crl.number`); a paused instance is told when resumed.
   */
  async takeCrl(crl: { pem: string; number?: string; revokesSupervisor?: boolean }): Promise<void> {
    if (this.#cleanup) return;
    await this.#crl.replace(crl.pem);
    // A draining go-shim looks at the file itself (its Control connection
    // went with the drain's GOAWAY); a paused one is told when resumed.
    if (!this.#paused && !this.#stopping) await this.#crl.push(crl.number, { revokesSupervisor: crl.revokesSupervisor ?? false });
  }

  /** Moves calls away from the instance (refused with `reason`), then stops its processes. */
  async pause(reason: string): Promise<void> {
    const cgroup = this.#cgroup;
    if (!cgroup || this.#cleanup) throw new Error(`instance ${this.id} is not running`);
    this.#env.address(this.#plugin.name)?.hold(this.id, reason);
    if (this.#monitor?.cpuBreakerHoldsStopped) {
      // The CPU breaker has parked and stopped it already: its stopped
      // processes could not answer a Park (it failed after a second). It is
      // its operator's now: the cool-down's end leaves it stopped (cpu-guard.ts).
      this.#paused = true;
      this.#log.warn({ reason, stoppedBy: "cpu breaker" }, "instance paused");
      return;
    }
    const pausing = parkThenStop({
      cgroup,
      cpuCores: this.#plugin.limits.cpu,
      log: this.#log,
      park: async (graceMs) => (await this.#channel?.park(graceMs, reason)) ?? false,
      graceMs: PAUSE_PARK_GRACE_MS, // the calls in flight finish or are ended first
      signalled: () => (this.#paused = true),
    });
    this.#pausing = pausing;
    const stopped = await pausing;
    this.#log.warn({ ...stopped, reason }, "instance paused");
  }

  /** Continues a paused instance and lets calls reach it again. */
  async resume(): Promise<void> {
    await this.#pausing?.catch(() => {}); // its SIGSTOP must not come after the SIGCONT
    const cgroup = this.#cgroup;
    if (!cgroup || !this.#paused) return;
    this.#paused = false;
    if (this.#monitor?.cpuBreakerHoldsStopped) {
      // Paused while the CPU breaker had it stopped: it goes back to that,
      // and the breaker continues it when its cool-down ends.
      this.#env.address(this.#plugin.name)?.hold(this.id, `plugin ${this.#plugin.name} is stopped by the CPU breaker until its cool-down ends`);
      this.#log.info("instance resumed by its operator; the CPU breaker keeps it stopped until its cool-down ends");
      return;
    }
    await signalAll(cgroup, "SIGCONT");
    // A CRL published while it was stopped was not pushed (reloadTrust): it
    // is read before calls reach the instance again.
    await this.#crl.push();
    await this.#channel?.unpark();
    this.#env.address(this.#plugin.name)?.release(this.id);
    this.#log.info("instance resumed");
  }

  /** Drain (bounded by graceMs), then SIGTERM, then SIGKILL; then clean up. */
  /** Whether stop() has begun: the instance drains and ends. */
  get stopping(): boolean {
    return this.#stopping;
  }

  async stop(graceMs: number): Promise<void> {
    this.#stopping = true;
    const sandbox = this.#sandbox;
    await this.#pausing?.catch(() => {}); // its SIGSTOP must not come during the drain
    if (this.#paused && this.#cgroup) await signalAll(this.#cgroup, "SIGCONT"); // it must run to drain
    clearTimeout(this.#samplingDelay); // nothing to watch while it drains
    await this.#monitor?.close(); // a stopped instance must run to drain
    if (sandbox && this.#channel) {
      // Asked first: the drain sends GOAWAY on this connection, and the
      // plugin's socket closes, so a call begun after it could not be made.
      const final = this.#finalCalls(this.#channel, graceMs);
      await this.#channel.drain(graceMs).catch((err: Error) => this.#log.warn({ err: err.message }, "drain request failed"));
      if (!(await settlesWithin(this.exited, graceMs + 500))) {
        this.#log.warn({ graceMs }, "plugin did not exit after draining; sending SIGTERM");
        sandbox.signal("SIGTERM");
        if (!(await settlesWithin(this.exited, 2000))) {
          this.#log.warn("plugin ignored SIGTERM; killing it");
        }
      }
      const methods = await final; // settled: the answer comes before the exit, a failure with it (or a SIGTERM's drain answers it)
      if (methods) this.#env.callsEnded(this.#plugin.name, this.id, methods);
    }
    await this.destroy();
  }

  /**
   * The final counts of a draining instance's calls, of the methods its
   * handshake declared; undefined if the drain's deadline stopped calls, or
   * go-shim is older than Control.Drained.
   */
  async #finalCalls(channel: ControlChannel, graceMs: number): Promise<MethodCalls__Output[] | undefined> {
    const declared = new Set(this.#handshake?.methods ?? []);
    try {
      const stats = await channel.drained(AbortSignal.timeout(graceMs + 1000));
      return stats.methods.filter((m) => declared.has(m.method));
    } catch (err) {
      if (!(err instanceof RpcError && err.code === grpcStatus.UNIMPLEMENTED)) {
        this.#log.info({ err: (err as Error).message }, "no final call counts from the drained plugin");
      }
      return undefined;
    }
  }

  /** Kills whatever still runs and gives everything back. Safe to call more than once. */
  destroy(): Promise<void> {
    this.#cleanup ??= this.#release();
    return this.#cleanup;
  }

  async #release(): Promise<void> {
    clearTimeout(this.#samplingDelay);
    await this.#monitor?.close();
    this.#env.address(this.#plugin.name)?.release(this.id);
    this.#channel?.close();
    this.#leaf?.close();
    if (this.#sandbox) {
      this.#sandbox.kill();
      await this.exited;
    } else {
      this.#resolveExited("never launched");
    }
    const removed = await this.#cgroup?.remove().then(
      () => true,
      (err: Error) => {
        // A process the kernel cannot end (uninterruptible sleep) may still
        // run as this uid: the uid is never given to another instance, and the
        // cgroup is left for the next start's sweep. The plugin itself goes on.
        this.#log.error({ err: err.message, cgroup: this.#cgroup?.name, uid: this.#uid }, "instance cgroup not removed; its uid stays out of use");
        return false;
      },
    );
    // Out of fds (EMFILE), say: logged, not thrown, as a throw here would end
    // the supervisor. What is left is the next start's to sweep; the uid,
    // whose files the directory holds, is not handed out again meanwhile.
    // The published socket's directory too: the socket is a file of the uid's.
    const dirsRemoved = await Promise.all(
      [this.#published.directory, this.#dir].map((dir) =>
        removeTree(dir).then(
          () => true,
          (err: Error) => {
            this.#log.error({ err: err.message, dir, uid: this.#uid }, "instance directory not removed; its uid stays out of use");
            return false;
          },
        ),
      ),
    );
    if (removed !== false && dirsRemoved.every(Boolean)) this.#env.uids.release(this.#uid);
  }
}

async function settlesWithin(promise: Promise<unknown>, ms: number): Promise<boolean> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<false>((resolve) => (timer = setTimeout(() => resolve(false), ms)));
  try {
    return await Promise.race([promise.then(() => true as const), timeout]);
  } finally {
    clearTimeout(timer);
  }
}

