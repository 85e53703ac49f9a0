// `corralctl`: the operator's command line for a running Corral supervisor.
import { Command, CommanderError, Option } from "commander";
import type { ServiceError } from "@grpc/grpc-js";
import type { AdminClient } from "../../proto/gen/ts/corral/admin/v1/Admin.ts";
import type { StatusResponse__Output } from "../../proto/gen/ts/corral/admin/v1/StatusResponse.ts";
import { CliError, connectAdmin, explain, resolveEndpoint, type Endpoint } from "../admin/client.ts";
import { ExitCode } from "./exit-codes.ts";
import { formatAge, table } from "./table.ts";

interface GlobalOptions {
  socket?: string;
  config?: string;
  credentials?: string;
  timeout: string;
}

const program = new Command("corralctl")
  .description("Administer a running Corral supervisor over its admin socket.")
  .addOption(new Option("-s, --socket <path>", "admin socket (default: from --config, $CORRAL_SOCKET, or /run/corral/admin.sock)"))
  .addOption(new Option("-c, --config <file>", "take the admin socket from this config file"))
  .addOption(new Option("--credentials <dir>", "admin credentials directory (default: admin-credentials beside the socket, or $CORRAL_CREDENTIALS)"))
  .addOption(new Option("--timeout <ms>", "give up on the daemon after this long").default("5000"))
  .exitOverride()
  .showHelpAfterError()
  .configureOutput({ outputError: (text, write) => write(text) });

/** Runs one admin call with the global options' endpoint and deadline. */
async function call<T>(invoke: (client: AdminClient, deadline: Date, done: (err: ServiceError | null, value?: T) => void) => void): Promise<T> {
  const options = program.opts<GlobalOptions>();
  const endpoint: Endpoint = await resolveEndpoint(options);
  const client = await connectAdmin(endpoint);
  try {
    return await new Promise<T>((resolve, reject) => {
      invoke(client, new Date(Date.now() + Number(options.timeout)), (err, value) => {
        if (err) reject(explain(err, endpoint));
        else resolve(value as T);
      });
    });
  } finally {
    client.close();
  }
}

program
  .command("status")
  .description("show every plugin's state, restarts, pid and release")
  .argument("[plugins...]", "only these plugins")
  .option("--json", "print JSON instead of a table")
  .action(async (plugins: string[], options: { json?: boolean }) => {
    const response = await call<StatusResponse__Output>((client, deadline, done) => client.Status({ plugins }, { deadline }, done));
    if (options.json) {
      const plugins = response.plugins.map((p) => ({
        name: p.name,
        state: p.state,
        restarts: p.restarts,
        instance: p.instance ? { id: p.instance.id, pid: p.instance.pid, release: p.instance.release } : null,
        ...(p.reason && { reason: p.reason }),
      }));
      process.stdout.write(`${JSON.stringify({ plugins }, null, 2)}\n`);
      return;
    }
    const rows = response.plugins.map((p) => [
      p.name,
      p.state,
      String(p.restarts),
      p.instance?.pid ? String(p.instance.pid) : "-",
      p.instance?.id ?? "-",
      p.instance?.release ? p.instance.release.slice(0, 12) : "-",
      formatAge(p.stateAgeMs),
      p.reason,
    ]);
    process.stdout.write(`${table(["PLUGIN", "STATE", "RESTARTS", "PID", "INSTANCE", "RELEASE", "AGE", "REASON"], rows)}\n`);
  });

program
  .command("version")
  .description("show the versions of corralctl and the daemon")
  .option("--json", "print JSON")
  .action(async (options: { json?: boolean }) => {
    const v = await call<{ version: string; controlProtocolVersion: number }>((client, deadline, done) => client.Version({}, { deadline }, done));
    if (options.json) process.stdout.write(`${JSON.stringify(v)}\n`);
    else process.stdout.write(`corral ${v.version} (Control protocol v${v.controlProtocolVersion})\n`);
  });

try {
  await program.parseAsync(process.argv);
} catch (err) {
  if (err instanceof CommanderError) {
    process.exitCode = err.exitCode === 0 ? ExitCode.ok : ExitCode.usage;
  } else if (err instanceof CliError) {
    process.stderr.write(`corralctl: ${err.message}\n`);
    process.exitCode = err.exitCode;
  } else {
    process.stderr.write(`corralctl: ${(err as Error).message}\n`);
    process.exitCode = ExitCode.failed;
  }
}
