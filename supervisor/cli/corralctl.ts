// `corralctl`: the operator's command line for a running Corral supervisor.
import { Command, CommanderError, InvalidArgumentError, Option } from "commander";
import type { ServiceError } from "@grpc/grpc-js";
import type { AdminClient } from "../../proto/gen/ts/corral/admin/v1/Admin.ts";
import type { AckAlertsResponse__Output } from "../../proto/gen/ts/corral/admin/v1/AckAlertsResponse.ts";
import type { ListAlertsResponse__Output } from "../../proto/gen/ts/corral/admin/v1/ListAlertsResponse.ts";
import type { ListDiagnosticsResponse__Output } from "../../proto/gen/ts/corral/admin/v1/ListDiagnosticsResponse.ts";
import type { IssueCertificateResponse__Output } from "../../proto/gen/ts/corral/admin/v1/IssueCertificateResponse.ts";
import type { ListCertificatesResponse__Output } from "../../proto/gen/ts/corral/admin/v1/ListCertificatesResponse.ts";
import type { RevokeCertificateResponse__Output } from "../../proto/gen/ts/corral/admin/v1/RevokeCertificateResponse.ts";
import type { UnrevokeIdentityResponse__Output } from "../../proto/gen/ts/corral/admin/v1/UnrevokeIdentityResponse.ts";
import type { RotateCertificatesResponse__Output } from "../../proto/gen/ts/corral/admin/v1/RotateCertificatesResponse.ts";
import type { StatusResponse__Output } from "../../proto/gen/ts/corral/admin/v1/StatusResponse.ts";
import type { DeployResponse__Output } from "../../proto/gen/ts/corral/admin/v1/DeployResponse.ts";
import type { ListReleasesResponse__Output } from "../../proto/gen/ts/corral/admin/v1/ListReleasesResponse.ts";
import type { DescribeResponse__Output } from "../../proto/gen/ts/corral/admin/v1/DescribeResponse.ts";
import type { Event__Output } from "../../proto/gen/ts/corral/admin/v1/Event.ts";
import type { LogLine__Output } from "../../proto/gen/ts/corral/admin/v1/LogLine.ts";
import type { PluginStatus__Output } from "../../proto/gen/ts/corral/admin/v1/PluginStatus.ts";
import type { ReloadResponse__Output } from "../../proto/gen/ts/corral/admin/v1/ReloadResponse.ts";
import type { ValidateConfigResponse__Output } from "../../proto/gen/ts/corral/admin/v1/ValidateConfigResponse.ts";
import type { ClientReadableStream } from "@grpc/grpc-js";
import { constants as fsConstants, existsSync } from "node:fs";
import { access, mkdir, readFile } from "node:fs/promises";
import path from "node:path";
import { CliError, connectAdmin, explain, resolveEndpoint, type Endpoint } from "../admin/client.ts";
import { replaceAtomically } from "../identity/files.ts";
import { bashCompletion } from "./completion.ts";
import { ExitCode } from "./exit-codes.ts";
import { SUPERVISOR_VERSION } from "../version.ts";
import { alertKinds } from "../breakers/alerts.ts";
import { shownReason, shownState } from "./shown-state.ts";
import { shownLines, shownLogLine, shownText } from "./shown-text.ts";
import { formatAge, formatBytes, table } from "./table.ts";

interface GlobalOptions {
  socket?: string;
  config?: string;
  credentials?: string;
  /** --timeout as given; each command has its default. */
  timeout?: string;
}

/** The largest count the admin protocol carries (uint32): a larger one would wrap around, unseen. */
const UINT32_MAX = 0xffff_ffff;

/** An option's value that must be a whole positive number of milliseconds. */
function milliseconds(value: string): string {
  if (!/^[1-9]\d*$/.test(value)) throw new InvalidArgumentError("give a number of milliseconds, e.g. 5000");
  if (Number(value) > UINT32_MAX) throw new InvalidArgumentError(`at most ${UINT32_MAX} ms`);
  return value;
}

const program = new Command("corralctl")
  .description("Administer a running Corral supervisor over its admin socket.")
  .addOption(new Option("-s, --socket <path>", "admin socket (default: from --config, $CORRAL_SOCKET, or /run/corral/admin.sock)"))
  .addOption(new Option("-c, --config <file>", "take the admin socket from this config file"))
  .addOption(new Option("--credentials <dir>", "admin credentials directory (default: $CORRAL_CREDENTIALS, else admin-credentials beside the socket)"))
  .addOption(
    new Option("--timeout <ms>", "give up on the daemon after this long (default: 5 s; 120 s for the commands that wait for instances: start, stop, restart, pause, resume, deploy, rollback, reload)")
      .argParser(milliseconds),
  )
  .exitOverride()
  .showHelpAfterError()
  .configureOutput({ outputError: (text, write) => write(text) });

/** Runs one admin call with the global options' endpoint, and --timeout (else `defaultTimeoutMs`) as its deadline. */
async function call<T>(
  invoke: (client: AdminClient, deadline: Date, done: (err: ServiceError | null, value?: T) => void) => void,
  defaultTimeoutMs = DEFAULT_TIMEOUT_MS,
): Promise<T> {
  const options = program.opts<GlobalOptions>();
  const endpoint: Endpoint = await resolveEndpoint(options);
  const client = await connectAdmin(endpoint);
  try {
    return await new Promise<T>((resolve, reject) => {
      invoke(client, new Date(Date.now() + timeoutMs(defaultTimeoutMs)), (err, value) => {
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
        address: p.address,
        ...(p.tcpAddress && { tcpAddress: p.tcpAddress }),
        instance: p.instance ? { id: p.instance.id, pid: p.instance.pid, release: p.instance.release } : null,
        // The table's AGE: how long the plugin has been in its state.
        stateAgeMs: Number(p.stateAgeMs),
        ...(p.instance?.usage && {
          usage: {
            cpuPercent: p.instance.usage.cpuPercent,
            memoryBytes: p.instance.usage.memoryBytes,
            openFds: p.instance.usage.openFds,
            goroutines: p.instance.usage.goroutines,
            heapInuse: p.instance.usage.heapInuse,
          },
        }),
        ...(p.instance?.cpuBreaker && { cpuBreaker: { state: p.instance.cpuBreaker, reason: p.instance.cpuBreakerReason || undefined } }),
        ...(p.reason && { reason: p.reason }),
      }));
      process.stdout.write(`${JSON.stringify({ plugins }, null, 2)}\n`);
      return;
    }
    const rows = response.plugins.map((p) => {
      const usage = p.instance?.usage;
      return [
        p.name,
        shownState(p),
        String(p.restarts),
        p.instance?.pid ? String(p.instance.pid) : "-",
        p.instance?.id ?? "-",
        p.instance?.release ? p.instance.release.slice(0, 12) : "-",
        usage ? `${usage.cpuPercent.toFixed(1)}%` : "-",
        usage ? formatBytes(Number(usage.memoryBytes)) : "-",
        usage?.goroutines ? String(usage.goroutines) : "-",
        formatAge(p.stateAgeMs),
        shownText(shownReason(p)),
      ];
    });
    process.stdout.write(
      `${table(["PLUGIN", "STATE", "RESTARTS", "PID", "INSTANCE", "RELEASE", "CPU", "MEM", "GOROUTINES", "AGE", "REASON"], rows)}\n`,
    );
  });

program
  .command("version")
  .description("show the versions of corralctl and the daemon")
  .option("--json", "print JSON")
  .action(async (options: { json?: boolean }) => {
    const v = await call<{ version: string; controlProtocolVersion: number }>((client, deadline, done) => client.Version({}, { deadline }, done));
    if (options.json) process.stdout.write(`${JSON.stringify({ corralctl: SUPERVISOR_VERSION, ...v })}\n`);
    else process.stdout.write(`corralctl ${SUPERVISOR_VERSION}\ncorral ${v.version} (Control protocol v${v.controlProtocolVersion})\n`);
  });

program
  .command("alerts")
  .description("show the alerts the breakers and warning signs raised (open ones; --all for acknowledged too)")
  .argument("[plugin]", "only this plugin's")
  .option("--all", "include acknowledged alerts")
  .option("--json", "print JSON")
  .action(async (plugin: string | undefined, options: { all?: boolean; json?: boolean }) => {
    const response = await call<ListAlertsResponse__Output>((client, deadline, done) =>
      client.ListAlerts({ plugin: plugin ?? "", includeAcknowledged: options.all ?? false }, { deadline }, done),
    );
    if (options.json) {
      process.stdout.write(`${JSON.stringify({ alerts: response.alerts }, null, 2)}\n`);
      return;
    }
    const rows = response.alerts.map((a) => [a.plugin, a.kind, new Date(Number(a.atUnixMs)).toISOString(), a.acknowledged ? "acked" : "open", shownText(a.message)]);
    process.stdout.write(`${table(["PLUGIN", "KIND", "AT", "STATE", "MESSAGE"], rows)}\n`);
  });

program
  .command("ack")
  .description("acknowledge a plugin's open alerts (of one kind, or all)")
  .argument("<plugin>")
  .addOption(new Option("--kind <kind>", "only alerts of this kind").choices(alertKinds))
  .option("--json", "print JSON")
  .action(async (plugin: string, options: { kind?: string; json?: boolean }) => {
    const response = await call<AckAlertsResponse__Output>((client, deadline, done) =>
      client.AckAlerts({ plugin, kind: options.kind ?? "" }, { deadline }, done),
    );
    if (options.json) process.stdout.write(`${JSON.stringify({ plugin, acknowledged: response.acknowledged })}\n`);
    else process.stdout.write(`acknowledged ${response.acknowledged} alert(s) of ${plugin}\n`);
  });

program
  .command("diag")
  .description("list the diagnostics (goroutine dumps, pprof profiles) captured for a plugin, or capture them now")
  .argument("<plugin>")
  .option("--capture", "capture a goroutine dump and heap profile now")
  .addOption(new Option("--cpu <ms>", "with --capture: also a CPU profile of this many milliseconds").argParser(milliseconds))
  .option("--json", "print JSON")
  .action(async (plugin: string, options: { capture?: boolean; cpu?: string; json?: boolean }) => {
    if (options.cpu !== undefined && !options.capture) throw new CliError("--cpu goes with --capture", ExitCode.usage);
    const response = await call<ListDiagnosticsResponse__Output>((client, deadline, done) =>
      options.capture
        ? client.CaptureDiagnostics({ plugin, cpuMs: Number(options.cpu ?? 0) }, { deadline: new Date(deadline.getTime() + Number(options.cpu ?? 0) + 10_000) }, done)
        : client.ListDiagnostics({ plugin }, { deadline }, done),
    );
    if (options.json) {
      process.stdout.write(`${JSON.stringify({ diagnostics: response.diagnostics }, null, 2)}\n`);
      return;
    }
    const rows = response.diagnostics.map((d) => [new Date(Number(d.atUnixMs)).toISOString(), formatBytes(Number(d.bytes)), d.path]);
    process.stdout.write(`${table(["AT", "SIZE", "FILE"], rows)}\n`);
  });

/** A deploy, rollback, restart or reload waits for new instances to start and old ones to drain. */
const UPDATE_TIMEOUT_MS = 120_000;
const DEFAULT_TIMEOUT_MS = 5000;

/** --timeout when given, else the command's default. */
function timeoutMs(commandDefaultMs = DEFAULT_TIMEOUT_MS): number {
  const given = program.opts<GlobalOptions>().timeout;
  return given === undefined ? commandDefaultMs : Number(given);
}

/**
 * Runs one server-streaming admin call until it ends (or, for a follow,
 * until Ctrl-C). The connection is bounded by --timeout, and so is the
 * whole call when it does not follow.
 */
async function callStream<T>(
  open: (client: AdminClient, options: { deadline?: Date }) => ClientReadableStream<T>,
  onMessage: (message: T) => void,
  follow: boolean,
): Promise<void> {
  const options = program.opts<GlobalOptions>();
  const endpoint: Endpoint = await resolveEndpoint(options);
  const client = await connectAdmin(endpoint);
  const deadline = new Date(Date.now() + timeoutMs());
  // A call first, bounded by --timeout: it fails at once with the reason
  // (credentials of another CA, a socket this user may not open), where
  // waitForReady waited out the deadline and said only that it had.
  await new Promise<void>((resolve, reject) =>
    client.Version({}, { deadline }, (err) => (err ? reject(explain(err, endpoint)) : resolve())),
  ).catch((err: unknown) => {
    client.close();
    throw err;
  });
  const stream = open(client, follow ? {} : { deadline });
  const stop = () => stream.cancel();
  process.once("SIGINT", stop);
  // What a follow's stdout cannot take yet waits in the daemon, which
  // bounds what it holds for a reader that does not read, not here,
  // unbounded. (Not a call that ends: bounded itself, by the ring, it would
  // be held past its deadline by a reader slower than that, `| less`.)
  const resume = () => stream.resume();
  process.stdout.on("drain", resume);
  try {
    await new Promise<void>((resolve, reject) => {
      stream.on("data", (message: T) => {
        onMessage(message);
        if (follow && process.stdout.writableNeedDrain) stream.pause();
      });
      stream.on("end", () => resolve());
      stream.on("error", (err: ServiceError) => (err.code === 1 /* CANCELLED: our Ctrl-C */ ? resolve() : reject(explain(err, endpoint))));
    });
  } finally {
    process.off("SIGINT", stop);
    process.stdout.off("drain", resume);
    client.close();
  }
}

/** Resolves once what has been written to `stream` so far is handed on (or the stream is gone). */
function flushed(stream: NodeJS.WriteStream): Promise<void> {
  if (stream.destroyed || !stream.writable) return Promise.resolve();
  return new Promise((resolve) => stream.write("", () => resolve()));
}

function printPlugin(p: PluginStatus__Output, json: boolean | undefined): void {
  if (json) process.stdout.write(`${JSON.stringify(p)}\n`);
  else process.stdout.write(`${p.name}: ${p.state}${p.instance ? ` (instance ${p.instance.id}, pid ${p.instance.pid})` : ""}${p.reason ? `: ${shownText(p.reason)}` : ""}\n`);
}

for (const [verb, description] of [
  ["start", "start a stopped plugin (or lift a quarantine) and wait until it is ready or has failed"],
  ["stop", "drain and stop a plugin; it stays stopped until started, across restarts of the supervisor too"],
  ["restart", "replace a plugin's instance with a new one, through the hot-update path (no failed calls)"],
  ["pause", "stop a plugin's processes (SIGSTOP) after moving calls away: they fail fast with UNAVAILABLE until resume"],
  ["resume", "continue a paused plugin"],
] as const) {
  const rpc = ({ start: "Start", stop: "Stop", restart: "Restart", pause: "Pause", resume: "Resume" } as const)[verb];
  program
    .command(verb)
    .description(description)
    .argument("<plugin>", "the plugin")
    .option("--json", "print the plugin's status as JSON")
    .action(async (plugin: string, options: { json?: boolean }) => {
      const status = await call<PluginStatus__Output>((client, deadline, done) => client[rpc]({ plugin }, { deadline }, done), UPDATE_TIMEOUT_MS);
      printPlugin(status, options.json);
      if (verb !== "stop" && (status.state === "crashed" || status.state === "backoff" || status.state === "quarantined")) process.exitCode = ExitCode.failed;
    });
}

program
  .command("describe")
  .description("show a plugin in full: status, effective config, stable address, open alerts and recent events")
  .argument("<plugin>", "the plugin")
  .option("--json", "print JSON")
  .action(async (plugin: string, options: { json?: boolean }) => {
    const d = await call<DescribeResponse__Output>((client, deadline, done) => client.Describe({ plugin }, { deadline }, done));
    if (options.json) {
      process.stdout.write(`${JSON.stringify({ ...d, config: JSON.parse(d.configJson) as unknown, configJson: undefined }, null, 2)}\n`);
      return;
    }
    const s = d.status!;
    const lines = [
      `plugin:    ${s.name}`,
      `state:     ${shownState(s)}${shownReason(s) ? ` (${shownText(shownReason(s))})` : ""}, for ${formatAge(s.stateAgeMs)}; ${s.restarts} restarts`,
      `address:   ${s.address}${s.tcpAddress ? `, tcp ${s.tcpAddress}` : ""}`,
      `current:   ${d.currentRelease || "-"}`,
      `instance:  ${s.instance ? `${s.instance.id} pid ${s.instance.pid} release ${s.instance.release.slice(0, 12)} (plugin ${shownText(s.instance.pluginVersion)}, API ${shownText(s.instance.apiVersion)})` : "-"}`,
      `alerts:    ${d.alerts.length ? d.alerts.map((a) => `${a.kind}: ${shownText(a.message)}`).join("\n           ") : "none"}`,
      "events:",
      ...d.events.map((e) => `  ${new Date(Number(e.atUnixMs)).toISOString()} ${e.kind} ${shownText(e.message)}`),
      "config:",
      ...d.configJson.split("\n").map((l) => `  ${l}`),
    ];
    process.stdout.write(`${lines.join("\n")}\n`);
  });

program
  .command("logs")
  .description("show a plugin's most recent output (stdout and stderr of its instances); -f keeps following")
  .argument("<plugin>", "the plugin")
  .option("-n, --tail <lines>", "how many recent lines (0: all kept)", "100")
  .option("-f, --follow", "keep printing new lines until Ctrl-C")
  .option("--json", "one JSON object per line")
  .action(async (plugin: string, options: { tail: string; follow?: boolean; json?: boolean }) => {
    const tail = Number(options.tail);
    if (!Number.isInteger(tail) || tail < 0 || tail > UINT32_MAX) throw new CliError(`--tail ${options.tail}: give a number of lines, at most ${UINT32_MAX}`, ExitCode.usage);
    await callStream<LogLine__Output>(
      (client, call) => client.Logs({ plugin, tail, follow: options.follow ?? false }, call),
      (l) =>
        process.stdout.write(
          options.json ? `${JSON.stringify(l)}\n` : `${shownLogLine(l)}\n`,
        ),
      options.follow ?? false,
    );
  });

program
  .command("events")
  .description("watch lifecycle transitions, breaker trips, alerts, deploys and reloads as they happen (Ctrl-C to stop)")
  .argument("[plugin]", "only this plugin's")
  .option("--recent <n>", "first show this many recent events", "20")
  .option("--json", "one JSON object per line")
  .action(async (plugin: string | undefined, options: { recent: string; json?: boolean }) => {
    // A uint32 on the wire: "-3" would wrap to every event kept.
    const recent = Number(options.recent);
    if (!/^\d+$/.test(options.recent) || recent > 0xffffffff) throw new CliError(`--recent ${options.recent}: give a number of events`, ExitCode.usage);
    await callStream<Event__Output>(
      (client) => client.WatchEvents({ plugin: plugin ?? "", recent }),
      (e) =>
        process.stdout.write(
          options.json ? `${JSON.stringify(e)}\n` : `${new Date(Number(e.atUnixMs)).toISOString()} ${e.plugin || "-"} ${e.kind} ${shownText(e.message)}\n`,
        ),
      true,
    );
  });

program
  .command("validate")
  .description("check a config file (default: the one the daemon runs) without applying it; for a file offline, use `corral validate FILE`")
  .argument("[file]", "a config file, read by corralctl (as you) and checked by the daemon")
  .option("--json", "print JSON")
  .action(async (file: string | undefined, options: { json?: boolean }) => {
    let request = { path: "", content: "" };
    if (file) {
      const content = await readFile(file, "utf8").catch((err: Error) => {
        throw new CliError(`cannot read ${file}: ${err.message}`, ExitCode.usage);
      });
      request = { path: path.resolve(file), content };
    }
    const r = await call<ValidateConfigResponse__Output>((client, deadline, done) => client.ValidateConfig(request, { deadline }, done));
    if (options.json) process.stdout.write(`${JSON.stringify(r)}\n`);
    else if (r.valid) {
      process.stdout.write(`valid: ${r.plugins.length} plugin(s): ${r.plugins.join(", ")}\n`);
      // The daemon looks for host paths only in its own file: it is no oracle of what exists for an admin who sends text.
      if (file) process.stdout.write(`(host paths, such as readOnlyPaths, were not looked for: \`corral validate ${file}\` on the host checks them)\n`);
    }
    else process.stderr.write(`invalid config\n${r.errors.join("\n")}\n`);
    if (!r.valid) process.exitCode = ExitCode.failed;
  });

program
  .command("reload")
  .description("read the daemon's config file again and apply the difference (added plugins start, removed ones stop, changed ones roll without failed calls); an invalid file changes nothing")
  .option("--json", "print JSON")
  .action(async (options: { json?: boolean }) => {
    const r = await call<ReloadResponse__Output>((client, deadline, done) => client.Reload({}, { deadline }, done), UPDATE_TIMEOUT_MS);
    if (options.json) process.stdout.write(`${JSON.stringify(r)}\n`);
    else {
      const list = (label: string, names: string[]) => (names.length ? `${label}: ${names.join(", ")}\n` : "");
      process.stdout.write(
        `reloaded\n${list("added", r.added)}${list("removed", r.removed)}${list("changed", r.changed)}${list("unchanged", r.unchanged)}`,
      );
      if (r.failed.length) process.stderr.write(`failed (still running as before):\n  ${r.failed.map(shownText).join("\n  ")}\n`);
    }
    if (r.failed.length) process.exitCode = ExitCode.failed;
  });


/**
 * On Ctrl-C while a deploy or rollback waits: says what becomes of it (the
 * supervisor drops it if it has not begun; one under way goes on to its
 * end, a release that fails put back as ever), then exits as by SIGINT.
 */
function sayOnInterrupt(what: string, plugin: string): void {
  process.once("SIGINT", () => {
    process.stderr.write(
      `corralctl: interrupted: the ${what} is dropped if it was still waiting behind another; if it had begun, it goes on in the supervisor (corralctl status ${plugin} shows which release serves)\n`,
    );
    process.exit(130);
  });
}

function printDeploy(response: DeployResponse__Output, json: boolean | undefined): void {
  if (json) process.stdout.write(`${JSON.stringify(response)}\n`);
  else if (!response.changed) process.stdout.write(`${response.plugin}: release ${response.release.slice(0, 12)} already current${response.instance ? ` (instance ${response.instance})` : " (plugin not running)"}\n`);
  else process.stdout.write(`${response.plugin}: release ${response.release.slice(0, 12)} serves (instance ${response.instance}), replacing ${response.previous.slice(0, 12) || "-"}, in ${response.durationMs} ms\n`);
}

program
  .command("deploy")
  .description("copy a binary into the plugin's release store, make it current and wait until it serves; a release that does not become ready never serves")
  .argument("<plugin>", "the plugin")
  .argument("<binary>", "the new release's binary")
  .option("--json", "print JSON")
  .action(async (plugin: string, binary: string, options: { json?: boolean }) => {
    const file = path.resolve(binary);
    sayOnInterrupt("deploy", plugin);
    const response = await call<DeployResponse__Output>(
      (client, deadline, done) => client.Deploy({ plugin, binary: file }, { deadline }, done),
      UPDATE_TIMEOUT_MS,
    ).catch((err: unknown) => {
      // The supervisor opens the path in its own mount namespace: under the
      // shipped unit (PrivateTmp), its /tmp and /var/tmp are not these.
      // Only the staging's own "<file>: no such file": a binary that cannot
      // run in the sandbox (dynamically linked: "/plugin: no such file or
      // directory") is not a matter of mount namespaces.
      if (err instanceof CliError && err.message.includes(`${file}: no such file`) && existsSync(file)) {
        throw new CliError(`${err.message} for the supervisor, though it is here: the supervisor resolves the path in its own mount namespace (under systemd with PrivateTmp, /tmp and /var/tmp are its own); put the binary elsewhere, e.g. under /var/lib/corral`, err.exitCode);
      }
      throw err;
    });
    printDeploy(response, options.json);
  });

program
  .command("rollback")
  .description("make an earlier release current again (default: the one before the current one) and wait until it serves")
  .argument("<plugin>", "the plugin")
  .argument("[release]", "sha256 of the release, or a unique prefix")
  .option("--json", "print JSON")
  .action(async (plugin: string, release: string | undefined, options: { json?: boolean }) => {
    sayOnInterrupt("rollback", plugin);
    const response = await call<DeployResponse__Output>(
      (client, deadline, done) => client.Rollback({ plugin, release: release ?? "" }, { deadline }, done),
      UPDATE_TIMEOUT_MS,
    );
    printDeploy(response, options.json);
  });

program
  .command("releases")
  .description("list the plugin's releases, the most recently activated first")
  .argument("<plugin>", "the plugin")
  .option("--json", "print JSON")
  .action(async (plugin: string, options: { json?: boolean }) => {
    const response = await call<ListReleasesResponse__Output>((client, deadline, done) => client.ListReleases({ plugin }, { deadline }, done));
    if (options.json) {
      process.stdout.write(`${JSON.stringify(response.releases)}\n`);
      return;
    }
    const rows = response.releases.map((r) => [
      r.sha256.slice(0, 12),
      [r.current && "current", r.serving && "serving"].filter(Boolean).join(",") || "-",
      formatBytes(Number(r.sizeBytes)),
      new Date(Number(r.importedUnixMs)).toISOString(),
      Number(r.activatedUnixMs) ? new Date(Number(r.activatedUnixMs)).toISOString() : "-",
    ]);
    process.stdout.write(`${table(["RELEASE", "STATE", "SIZE", "IMPORTED", "ACTIVATED"], rows)}\n`);
  });

const certs = program.command("certs").description("certificates from Corral's CA: list, issue, revoke, unrevoke, rotate");

certs
  .command("issue")
  .description("issue a certificate for an admin (corralctl), a host application scoped to plugins, or a plugin (an operator-provided certificate: plugins[].certificate)")
  .requiredOption("--role <role>", "admin, client or plugin")
  .requiredOption("--name <name>", "the name in its identity (spiffe://<trust-domain>/<role>/<name>)")
  .option("--plugin <name...>", "for --role client: the plugins it may call")
  .option("--ttl <duration>", "validity, e.g. 720h or 30d", "30d")
  .requiredOption("--out <dir>", "write ca.pem, cert.pem and key.pem (0600) here")
  .option("--json", "print the certificate's details as JSON")
  .action(async (options: { role: string; name: string; plugin?: string[]; ttl: string; out: string; json?: boolean }) => {
    const ttlMs = parseTtl(options.ttl);
    // Before the certificate is issued: one whose key could not be written
    // would stay valid, its key lost.
    await usableOutputDirectory(options.out);
    const response = await call<IssueCertificateResponse__Output>((client, deadline, done) =>
      client.IssueCertificate({ role: options.role, name: options.name, plugins: options.plugin ?? [], ttlMs }, { deadline }, done),
    );
    // Each file new, with its own mode, renamed over what was there: a key
    // written into a key.pem of a wider mode would keep that mode.
    await replaceAtomically(path.join(options.out, "ca.pem"), response.caPem, 0o644);
    await replaceAtomically(path.join(options.out, "cert.pem"), response.certPem, 0o644);
    await replaceAtomically(path.join(options.out, "key.pem"), response.keyPem, 0o600);
    const cert = response.certificate!;
    if (options.json) process.stdout.write(`${JSON.stringify(cert)}\n`);
    else process.stdout.write(`issued ${cert.identity} serial ${cert.serial}, valid until ${new Date(Number(cert.notAfterUnixMs)).toISOString()}, in ${options.out}\n`);
  });

certs
  .command("list")
  .description("list the certificates the CA has issued that have not expired")
  .option("--all", "include revoked certificates")
  .option("--json", "print JSON")
  .action(async (options: { all?: boolean; json?: boolean }) => {
    const response = await call<ListCertificatesResponse__Output>((client, deadline, done) =>
      client.ListCertificates({ includeRevoked: options.all ?? false }, { deadline }, done),
    );
    if (options.json) {
      process.stdout.write(`${JSON.stringify({ certificates: response.certificates }, null, 2)}\n`);
      return;
    }
    const rows = response.certificates.map((c) => [
      c.serial,
      c.kind,
      c.name,
      c.plugins.join(",") || "-",
      new Date(Number(c.notAfterUnixMs)).toISOString(),
      c.revoked ? "revoked" : "",
    ]);
    process.stdout.write(`${table(["SERIAL", "KIND", "NAME", "PLUGINS", "NOT AFTER", "STATUS"], rows)}\n`);
  });

certs
  .command("revoke")
  .description("revoke a certificate by serial, or every certificate of a plugin or identity (takes effect within a second)")
  .option("--serial <hex>", "one certificate")
  .option("--plugin <name>", "every certificate of this plugin's instances")
  .option("--identity <uri>", "every certificate of this identity (spiffe://...)")
  .option("--reason <text>", "why, for the record")
  .option("--json", "print JSON")
  .action(async (options: { serial?: string; plugin?: string; identity?: string; reason?: string; json?: boolean }) => {
    const targets = [options.serial, options.plugin, options.identity].filter((t) => t !== undefined);
    if (targets.length !== 1) throw new CliError("name exactly one of --serial, --plugin, --identity", ExitCode.usage);
    const target = options.serial ? { serial: options.serial } : options.plugin ? { plugin: options.plugin } : { identity: options.identity! };
    const response = await call<RevokeCertificateResponse__Output>((client, deadline, done) =>
      client.RevokeCertificate({ ...target, reason: options.reason ?? "" }, { deadline }, done),
    );
    if (options.json) process.stdout.write(`${JSON.stringify({ revokedSerials: response.revokedSerials })}\n`);
    else process.stdout.write(`revoked ${response.revokedSerials.length} certificate(s)${response.revokedSerials.length ? `: ${response.revokedSerials.join(" ")}` : ""}\n`);
  });


certs
  .command("unrevoke")
  .description("let the CA issue certificates for an identity revoked as a whole again (its revoked certificates stay revoked); then start the plugin")
  .option("--plugin <name>", "the plugin's identity")
  .option("--identity <uri>", "an identity (spiffe://...)")
  .option("--json", "print JSON")
  .action(async (options: { plugin?: string; identity?: string; json?: boolean }) => {
    if ((options.plugin === undefined) === (options.identity === undefined)) throw new CliError("name exactly one of --plugin, --identity", ExitCode.usage);
    const target = options.plugin !== undefined ? { plugin: options.plugin } : { identity: options.identity! };
    const response = await call<UnrevokeIdentityResponse__Output>((client, deadline, done) => client.UnrevokeIdentity(target, { deadline }, done));
    if (options.json) return void process.stdout.write(`${JSON.stringify({ identity: response.identity, wasRevoked: response.wasRevoked })}\n`);
    process.stdout.write(response.wasRevoked ? `unrevoked ${response.identity}\n` : `${response.identity} was not revoked\n`);
  });
certs
  .command("rotate")
  .description("renew the leaf certificates of running instances now")
  .argument("[plugins...]", "only these plugins")
  .option("--json", "print JSON")
  .action(async (plugins: string[], options: { json?: boolean }) => {
    const response = await call<RotateCertificatesResponse__Output>((client, deadline, done) =>
      client.RotateCertificates({ plugins }, { deadline }, done),
    );
    if (options.json) return void process.stdout.write(`${JSON.stringify({ instances: response.instances })}\n`);
    process.stdout.write(`rotated ${response.instances.length} instance(s)${response.instances.length ? `: ${response.instances.join(" ")}` : ""}\n`);
  });

program
  .command("completion")
  .description("print a shell completion script: eval \"$(corralctl completion bash)\" (or save it under /etc/bash_completion.d/corralctl)")
  .argument("[shell]", "bash (zsh: load it with bashcompinit)", "bash")
  .action((shell: string) => {
    if (shell !== "bash") throw new CliError(`completion for ${shell}: only bash is supported (zsh: autoload bashcompinit && bashcompinit)`, ExitCode.usage);
    process.stdout.write(bashCompletion(program));
  });

/** Makes `dir` (0700) if need be, and checks this process may write files in it; a CliError of usage if not. */
async function usableOutputDirectory(dir: string): Promise<void> {
  try {
    await mkdir(dir, { recursive: true, mode: 0o700 });
    await access(dir, fsConstants.W_OK | fsConstants.X_OK);
  } catch (err) {
    throw new CliError(`--out ${dir}: cannot write the certificate's files there: ${(err as Error).message}`, ExitCode.usage);
  }
}

/** "30d", "720h", "90m" into milliseconds. */
function parseTtl(text: string): number {
  const match = /^([1-9]\d*)(d|h|m)$/.exec(text);
  if (!match) throw new CliError(`--ttl ${text}: use e.g. 30d, 720h or 90m (at least 1)`, ExitCode.usage);
  return Number(match[1]) * { d: 86_400_000, h: 3_600_000, m: 60_000 }[match[2] as "d" | "h" | "m"];
}

// Output piped into a reader that is gone (`events | head -1`): done, not a crash.
process.stdout.on("error", (err: NodeJS.ErrnoException) => {
  if (err.code === "EPIPE") process.exit(process.exitCode ?? ExitCode.ok);
  throw err;
});

try {
  await program.parseAsync(process.argv);
} catch (err) {
  if (err instanceof CommanderError) {
    process.exitCode = err.exitCode === 0 ? ExitCode.ok : ExitCode.usage;
  } else if (err instanceof CliError) {
    process.stderr.write(`corralctl: ${shownLines(err.message)}\n`);
    process.exitCode = err.exitCode;
  } else {
    process.stderr.write(`corralctl: ${shownLines((err as Error).message)}\n`);
    process.exitCode = ExitCode.failed;
  }
}
// Not waiting for what may still hold the event loop: a TLS handshake with
// a daemon that does not answer (stopped, wedged) outlived the deadline.
// But for what is still queued for stdout: writes to a pipe are
// asynchronous, and process.exit drops them (a slow `| less` got half of
// a long `logs`, and the exit status said nothing of it).
await flushed(process.stdout);
process.exit(process.exitCode ?? ExitCode.ok);
