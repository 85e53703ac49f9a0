// `corral`'s commands (loaded by corral.ts, once signals are held). `corral
// serve --config FILE` supervises the plugins a
// config file describes until SIGTERM/SIGINT, then drains them and exits 0.
// `corral sandbox [options] -- CMD [ARGS...]` runs one command in the sandbox
// a plugin gets, stdio attached, and exits with the command's status.
import { Command, CommanderError } from "commander";
import path from "node:path";
import tls from "node:tls";
import { fileURLToPath } from "node:url";
import { ConfigError, loadConfig } from "../config/load.ts";
import { createLogger, LogLevelError, type Logger } from "../log.ts";
import { DEFAULT_CONFIG, planSandbox, runSandbox, SandboxCommandError, type SandboxFlags } from "../sandbox-command.ts";
import { Supervisor } from "../supervisor.ts";
import { Notifier, supervisingStatus, type Watchdog } from "../systemd/notify.ts";
import { raiseEarlySignals, releaseEarlySignals } from "./early-signals.ts";

/** sysexits.h's EX_SOFTWARE: an internal error, not a bad config (2) or a failed start (1). */
const ExitStatus = { bug: 70 } as const;

/** A repeat of the stop signal within this long is the same request (see onSignal). */
const SAME_SIGNAL_MS = 1000;

const repoRoot = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "../..");

const program = new Command("corral")
  .description("Corral: run Go plugins in sandboxed processes, supervised, over mTLS gRPC.")
  .showHelpAfterError()
  // A command line commander refuses exits 2 (see the end), as a bad config
  // does, not 1, which is a failed start; subcommands inherit this.
  .exitOverride()
  // `corral sandbox [options] -- CMD ARGS`: options after CMD belong to CMD.
  .enablePositionalOptions();

program
  .command("serve")
  .description("run the supervisor in the foreground with a config file")
  .option("-c, --config <file>", "config file", process.env.CORRAL_CONFIG ?? "/etc/corral/corral.yaml")
  .action(async (options: { config: string }) => {
    let logger: Logger;
    try {
      logger = createLogger();
    } catch (err) {
      if (!(err instanceof LogLevelError)) throw err;
      process.stderr.write(`corral: ${err.message}\n`);
      process.exit(2);
    }
    // Every TLS endpoint of the daemon is TLS 1.3 only, as go-shim's and the
    // clients' are: the admin socket took TLS 1.2 and its CBC/SHA-1 suites
    // (grpc-js's server credentials take no minimum of their own).
    tls.DEFAULT_MIN_VERSION = "TLSv1.3";
    // The modes of what the supervisor makes are its own, given in the code
    // where it makes each (secrets 0600 and 0700, the rest readable): the
    // sandboxes' uids read an instance's CA and CRL, host applications of
    // any uid reach the stable addresses. An inherited umask of 077 (a
    // unit's UMask=0077, as systemd-analyze security suggests) made those
    // root's alone, and no plugin could start.
    const inherited = process.umask(0o022);
    if (inherited !== 0o022) logger.debug({ umask: `0${inherited.toString(8).padStart(3, "0")}` }, "set the umask to 022: the modes of the supervisor's files are given where each is made");
    // A bug that escapes every handler ends the supervisor, as Node's default
    // would (and systemd restarts it; its plugins end with it), but said in
    // the log's own format first, with the stack, where the operator reads.
    const onBug = (err: unknown) => {
      const error = err instanceof Error ? err : new Error(String(err));
      logger.fatal({ err: error.message, stack: error.stack }, "supervisor bug: an error no code handled; exiting");
      logger.flush();
      process.exit(ExitStatus.bug);
    };
    process.on("uncaughtException", onBug);
    process.on("unhandledRejection", onBug);
    // Under systemd (Type=notify, deploy/corral.service): READY=1 once every
    // plugin is ready or settled, STOPPING=1 when the drain begins, and the
    // watchdog in between. A no-op without NOTIFY_SOCKET. Config reload
    // (SIGHUP, `corralctl reload`) is to call `systemd.reloading()` before it
    // touches anything and `systemd.reloaded(status)` when it is done, applied
    // or rejected: systemd shows the unit "reloading" in between, and
    // Type=notify-reload (systemd >= 253) waits for that pair.
    const systemd = new Notifier({ logger });
    // Termination is handled from the first moment: a signal that arrives
    // while plugins are still starting gives up their first attempts and
    // stops the supervisor once its start returns, rather than killing it
    // with its plugins half started.
    let requested: NodeJS.Signals | undefined;
    let requestedAt = 0;
    const stopRequested = new AbortController();
    let supervisor: Supervisor | undefined;
    let watchdog: Watchdog | undefined;
    const onSignal = (signal: NodeJS.Signals) => {
      if (requested) {
        // The same signal again at once is the same request: Ctrl-C reaches
        // the terminal's whole process group, npm among it, and npm passes
        // it on to its child, this process.
        if (signal === requested && Date.now() - requestedAt < SAME_SIGNAL_MS) return;
        logger.warn({ signal }, "second signal: exiting without waiting for plugins to drain");
        logger.flush();
        process.exit(1);
      }
      requested = signal;
      requestedAt = Date.now();
      if (supervisor) void shutdown(supervisor, signal, logger, systemd, watchdog);
      else {
        logger.info({ signal }, "stop requested while starting: first attempts still under way are given up, then all stops");
        stopRequested.abort();
      }
    };
    process.on("SIGTERM", onSignal);
    process.on("SIGINT", onSignal);
    // The unit's ExecReload sends SIGHUP: reload the config (the same as
    // `corralctl reload`). One that arrives while starting is kept for the
    // end of the start: the file was read at its beginning, and a start
    // lasts as long as the slowest plugin's first attempt, which a change
    // made meanwhile must not be lost to. While stopping, there is nothing
    // to reload.
    let reloadOnceStarted = false;
    const reload = (running: Supervisor) =>
      running.reload().catch((err: Error) => logger.error({ err: err.message }, "SIGHUP: reload failed; the running config stays"));
    process.on("SIGHUP", () => {
      if (requested) logger.warn("SIGHUP while stopping: nothing reloaded");
      else if (supervisor) void reload(supervisor);
      else if (!reloadOnceStarted) {
        reloadOnceStarted = true;
        logger.info("SIGHUP while starting: reloading once started");
      }
    });
    // Those that came while the modules loaded, handled as if they came now.
    for (const signal of releaseEarlySignals()) process.emit(signal, signal);

    let plugins: string[] = [];
    try {
      const config = await loadConfig(options.config, { empty: "defaults" });
      supervisor = await Supervisor.start(config, {
        logger,
        configFile: path.resolve(options.config),
        // Around every reload (SIGHUP or corralctl reload), applied or rejected.
        onReloading: () => systemd.reloading("reloading the config"),
        onReloaded: (summary) => systemd.reloaded(summary),
        stopRequested: stopRequested.signal,
      });
      plugins = config.plugins.map((p) => p.name);
    } catch (err) {
      if (err instanceof ConfigError) {
        process.stderr.write(`corral: invalid config\n${err.message}\n`);
        process.exit(2);
      }
      logger.fatal({ err: (err as Error).message }, "supervisor failed to start");
      logger.flush();
      process.stderr.write(`corral: ${(err as Error).message}\n`);
      process.exit(1);
    }
    if (requested) return void shutdown(supervisor, requested, logger, systemd, watchdog);
    // The helper that sends the notifications starts with the first one, now
    // that the supervisor sits in its own cgroup leaf (see systemd/notify.ts).
    await systemd.ready(supervisingStatus(plugins));
    if (requested) return;
    watchdog = systemd.startWatchdog();
    if (reloadOnceStarted) void reload(supervisor);
  });

program
  .command("validate")
  .description("check a config file offline: exit 0 if it is valid, 2 with every problem (file:line:col, field, value) if not")
  .argument("[file]", "the config file", process.env.CORRAL_CONFIG ?? "/etc/corral/corral.yaml")
  .action(async (file: string) => {
    raiseEarlySignals();
    try {
      const config = await loadConfig(file);
      process.stdout.write(`${path.resolve(file)}: valid; ${config.plugins.length} plugin(s)${config.plugins.length ? `: ${config.plugins.map((p) => p.name).join(", ")}` : ""}\n`);
    } catch (err) {
      if (!(err instanceof ConfigError)) throw err;
      process.stderr.write(`corral: invalid config\n${err.message}\n`);
      process.exitCode = 2;
    }
  });

/** Exit status of `corral sandbox` when Corral itself fails (usage, config, setup). */
const SANDBOX_FAILED = 125;
const collect = (value: string, previous: string[]) => [...previous, value];

program
  .command("sandbox")
  .description(
    "run CMD in exactly the sandbox a plugin gets (limits, rlimits, environment, grants, network), " +
      "stdio attached; exits with CMD's status (128+n if killed by signal n, 125 if the sandbox could not be set up)",
  )
  .usage("[options] -- CMD [ARGS...]")
  .argument("<cmd...>", "the command, looked up on the host PATH; it runs as /plugin (its argv[0] is /plugin)")
  .option("-c, --config <file>", `config for the sandbox uid range, cgroup parent and --plugin (default: $CORRAL_CONFIG, else ${DEFAULT_CONFIG} if it exists)`)
  .option("-p, --plugin <name>", "confine CMD as this plugin of the config is confined; the options below override its entry")
  .option("--memory <size>", "memory limit, e.g. 64MiB (default 128MiB)")
  .option("--pids <n>", "tasks limit, threads included; also RLIMIT_NPROC (default 128)")
  .option("--cpu <cores>", "CPU quota in cores, e.g. 0.5 (default 1)")
  .option("--workspace <size>", "size of the tmpfs at /tmp (default 16MiB)")
  .option("--ro <path>", "grant a host path read-only at the same path inside (repeatable; must exist)", collect, [])
  .option("--network <mode>", 'none (loopback only, the default) or host')
  .option("--env <name=value>", "add to CMD's environment (repeatable); the CORRAL_* variables, HOME, TMPDIR, PATH and GOMAXPROCS are the sandbox's", collect, [])
  .passThroughOptions()
  // Its own failures are 125, so that they cannot be taken for the command's status.
  .exitOverride((err) => process.exit(err.exitCode === 0 ? 0 : SANDBOX_FAILED))
  .action(async (cmd: string[], options: SandboxFlags) => {
    raiseEarlySignals(); // nothing is started yet: a signal so far ends it as by default
    const fail = (stage: string, message: string): never => {
      process.stderr.write(`corral sandbox: setup failed at ${stage}: ${message}\n`);
      process.exit(SANDBOX_FAILED);
    };
    try {
      const flags = { ...options, ...(options.config === undefined && process.env.CORRAL_CONFIG && { config: process.env.CORRAL_CONFIG }) };
      // Planned once the launcher is spawned: it starts while the config is read.
      const outcome = await runSandbox(() => planSandbox(flags, cmd), {
        launcherPath: process.env.CORRAL_SANDBOX_LAUNCHER ?? path.join(repoRoot, "build/bin/corral-sandbox"),
        forwardSignals: ["SIGINT", "SIGTERM", "SIGHUP"],
      });
      if (outcome.cleanupError) {
        process.stderr.write(`corral sandbox: warning: cleanup incomplete (the next run removes the rest): ${outcome.cleanupError.message}\n`);
      }
      if (outcome.exit.error) fail(outcome.exit.error.stage, outcome.exit.error.message);
      process.exit(outcome.status);
    } catch (err) {
      if (err instanceof SandboxCommandError) fail(err.stage, err.message);
      fail("setup", (err as Error).message);
    }
  });

/**
 * Graceful shutdown: tells systemd (STOPPING=1), drains every plugin, then
 * exits 0 (1 if the drain failed). The watchdog keeps pinging during the
 * drain and stops just before the exit.
 */
async function shutdown(supervisor: Supervisor, signal: NodeJS.Signals, logger: Logger, systemd: Notifier, watchdog: Watchdog | undefined): Promise<never> {
  logger.info({ signal }, "stopping: draining all plugins");
  void systemd.stopping(`stopping (${signal}): draining all plugins`);
  let status = 0;
  try {
    await supervisor.stop();
  } catch (err) {
    logger.error({ err: (err as Error).message }, "stop failed");
    status = 1;
  }
  watchdog?.stop();
  await systemd.close();
  logger.flush();
  process.exit(status);
}

try {
  await program.parseAsync(process.argv);
} catch (err) {
  // A command line refused (help asked for is not refused): 2, like corralctl's usage errors.
  if (!(err instanceof CommanderError)) throw err;
  process.exit(err.exitCode === 0 ? 0 : 2);
}
