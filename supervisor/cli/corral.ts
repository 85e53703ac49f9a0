// `corral`: the daemon. `corral serve --config FILE` supervises the plugins a
// config file describes until SIGTERM/SIGINT, then drains them and exits 0.
import { Command } from "commander";
import { ConfigError, loadConfig } from "../config/load.ts";
import { createLogger } from "../log.ts";
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
    let supervisor: Supervisor;
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
    let stopping = false;
    const shutdown = (signal: NodeJS.Signals) => {
      if (stopping) {
        logger.warn({ signal }, "second signal: exiting without waiting for plugins to drain");
        process.exit(1);
      }
      stopping = true;
      logger.info({ signal }, "stopping: draining all plugins");
      supervisor.stop().then(
        () => {
          logger.flush();
          process.exit(0);
        },
        (err: Error) => {
          logger.error({ err: err.message }, "stop failed");
          logger.flush();
          process.exit(1);
        },
      );
    };
    process.on("SIGTERM", shutdown);
    process.on("SIGINT", shutdown);
  });

await program.parseAsync(process.argv);
