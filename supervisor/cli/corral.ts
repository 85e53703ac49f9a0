// `corral`: the daemon. `corral serve --config FILE` supervises the plugins a
// config file describes until SIGTERM/SIGINT, then drains them and exits 0.
// `corral sandbox [options] -- CMD [ARGS...]` runs one command in the sandbox
// a plugin gets, stdio attached, and exits with the command's status.
import { Command, CommanderError } from "commander";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { ConfigError, loadConfig } from "../config/load.ts";
import { createLogger, type Logger } from "../log.ts";
import { DEFAULT_CONFIG, planSandbox, runSandbox, SandboxCommandError, type SandboxFlags } from "../sandbox-command.ts";
import { Supervisor } from "../supervisor.ts";

const repoRoot = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "../..");

const program = new Command("corral")
  .description("Corral: run Go plugins in sandboxed processes, supervised, over mTLS gRPC.")
  .showHelpAfterError()
  // `corral sandbox [options] -- CMD ARGS`: options after CMD belong to CMD.
  .enablePositionalOptions();

program
  .command("serve")
  .description("run the supervisor in the foreground with a config file")
  .option("-c, --config <file>", "config file", process.env.CORRAL_CONFIG ?? "/etc/corral/corral.yaml")
  .action(async (options: { config: string }) => {
    const logger = createLogger();
    // Termination is handled from the first moment: a signal that arrives
    // while plugins are still starting stops them once the start is done,
    // rather than killing the supervisor with its plugins half started.
    let requested: NodeJS.Signals | undefined;
    let supervisor: Supervisor | undefined;
    const onSignal = (signal: NodeJS.Signals) => {
      if (requested) {
        logger.warn({ signal }, "second signal: exiting without waiting for plugins to drain");
        logger.flush();
        process.exit(1);
      }
      requested = signal;
      if (supervisor) void shutdown(supervisor, signal, logger);
      else logger.info({ signal }, "stop requested while starting; stopping once started");
    };
    process.on("SIGTERM", onSignal);
    process.on("SIGINT", onSignal);

    try {
      const config = await loadConfig(options.config);
      supervisor = await Supervisor.start(config, { logger });
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
    if (requested) void shutdown(supervisor, requested, logger);
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
  .exitOverride()
  .action(async (cmd: string[], options: SandboxFlags) => {
    const fail = (stage: string, message: string): never => {
      process.stderr.write(`corral sandbox: setup failed at ${stage}: ${message}\n`);
      process.exit(SANDBOX_FAILED);
    };
    try {
      const flags = { ...options, ...(options.config === undefined && process.env.CORRAL_CONFIG && { config: process.env.CORRAL_CONFIG }) };
      const plan = await planSandbox(flags, cmd);
      const outcome = await runSandbox(plan, {
        launcherPath: process.env.CORRAL_SANDBOX_LAUNCHER ?? path.join(repoRoot, "build/bin/corral-sandbox"),
        forwardSignals: ["SIGINT", "SIGTERM", "SIGHUP"],
      });
      if (outcome.cleanupError) {
        process.stderr.write(`corral sandbox: warning: cleanup incomplete (the next run removes the rest): ${outcome.cleanupError.message}\n`);
      }
      if (outcome.exit.error) {
        const hint = outcome.hint ? `\ncorral sandbox: hint: ${outcome.hint}` : "";
        fail(outcome.exit.error.stage, `${outcome.exit.error.message}${hint}`);
      }
      process.exit(outcome.status);
    } catch (err) {
      if (err instanceof SandboxCommandError) fail(err.stage, err.message);
      fail("setup", (err as Error).message);
    }
  });

async function shutdown(supervisor: Supervisor, signal: NodeJS.Signals, logger: Logger): Promise<never> {
  logger.info({ signal }, "stopping: draining all plugins");
  try {
    await supervisor.stop();
    logger.flush();
    process.exit(0);
  } catch (err) {
    logger.error({ err: (err as Error).message }, "stop failed");
    logger.flush();
    process.exit(1);
  }
}

try {
  await program.parseAsync(process.argv);
} catch (err) {
  // Only `corral sandbox` overrides exiting: its own failures are 125, so
  // that they cannot be taken for the command's status.
  if (!(err instanceof CommanderError)) throw err;
  process.exit(err.exitCode === 0 ? 0 : SANDBOX_FAILED);
}
