// `corral`: the daemon. `corral serve --config FILE` supervises the plugins a
// config file describes until SIGTERM/SIGINT, then drains them and exits 0.
import { Command } from "commander";
import { ConfigError, loadConfig } from "../config/load.ts";
import { createLogger, type Logger } from "../log.ts";
import { Supervisor } from "../supervisor.ts";

const program = new Command("corral")
  .description("Corral: run Go plugins in sandboxed processes, supervised, over mTLS gRPC.")
  .showHelpAfterError();

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

await program.parseAsync(process.argv);
