// The admin API's operations on plugins (describe, start, stop, restart,
// pause, resume), their output and events, and the config (validate,
// reload), on top of the supervisor's plugin set.
import { status as grpcStatus } from "@grpc/grpc-js";
import type { DescribeResponse } from "../../proto/gen/ts/corral/admin/v1/DescribeResponse.ts";
import type { Event } from "../../proto/gen/ts/corral/admin/v1/Event.ts";
import type { LogLine } from "../../proto/gen/ts/corral/admin/v1/LogLine.ts";
import type { PluginStatus } from "../../proto/gen/ts/corral/admin/v1/PluginStatus.ts";
import type { ReloadResponse } from "../../proto/gen/ts/corral/admin/v1/ReloadResponse.ts";
import type { ValidateConfigResponse } from "../../proto/gen/ts/corral/admin/v1/ValidateConfigResponse.ts";
import type { AlertBook } from "../breakers/alerts.ts";
import type { Config } from "../config/schema.ts";
import { stat } from "node:fs/promises";
import nodePath from "node:path";
import { ChecksBusy, checkConfigText, type CheckedText } from "../config/check-text.ts";
import { ConfigError, formatProblem, loadConfig, type ConfigProblem } from "../config/load.ts";
import { reloadRefusals } from "../config/reload-refusals.ts";
import type { EventLog, PluginEvent } from "../observe/event-log.ts";
import type { OutputLine } from "../observe/output-ring.ts";
import type { PluginSet } from "../plugin-set.ts";
import { UpdateFailed } from "../plugin/controller.ts";
import { OperatorRecordFailed } from "../plugin/operator-stop.ts";
import { AdminError, type OperationsAdmin } from "./server.ts";
import { shownNames } from "./messages.ts";
import { pluginStatus } from "./status.ts";

export interface Reloader {
  /** The config file the supervisor runs. */
  readonly configFile: string | undefined;
  reload(): Promise<ReloadResponse>;
  /** The config in force: the one started with, or the last reload's. */
  readonly config: Config;
}

/** The largest config text ValidateConfig takes (a config of 500 plugins is about 60 KiB). */
const MAX_CONFIG_BYTES = 256 * 1024;
/** Problems a validation answers at most, and says how many more. */
const MAX_PROBLEMS = 100;

export function operationsAdmin(deps: { plugins: PluginSet; events: EventLog; alerts: AlertBook; reloader: Reloader }): OperationsAdmin {
  const find = (name: string) => {
    if (!name) throw new AdminError(grpcStatus.INVALID_ARGUMENT, "name the plugin");
    const parts = deps.plugins.get(name);
    if (!parts) throw new AdminError(grpcStatus.NOT_FOUND, `no such plugin: ${shownNames([name])}`);
    return parts;
  };
  const statusOf = (name: string): PluginStatus => {
    const parts = find(name);
    return pluginStatus(parts);
  };
  /** Its address open (it was not, if that failed at the supervisor's start). */
  const opened = (name: string) =>
    deps.plugins.open(name).catch((err: Error) => {
      throw new AdminError(grpcStatus.FAILED_PRECONDITION, `plugin ${name} cannot be served: its stable address could not be opened: ${err.message}`);
    });
  const refused = (err: unknown): never => {
    if (err instanceof UpdateFailed || err instanceof OperatorRecordFailed) throw new AdminError(grpcStatus.FAILED_PRECONDITION, err.message);
    throw err;
  };
  return {
    async describe(name): Promise<DescribeResponse> {
      const parts = find(name);
      const current = await parts.store.current().catch(() => undefined);
      return {
        status: statusOf(name),
        configJson: JSON.stringify(parts.config, null, 2),
        alerts: deps.alerts
          .open()
          .filter((a) => a.plugin === name)
          .map((a) => ({ kind: a.kind, plugin: name, message: a.message, evidence: a.evidence, atUnixMs: a.at, acknowledged: a.acknowledged })),
        events: deps.events.recent(20, name).map(toEvent),
        currentRelease: current?.sha256 ?? "",
      };
    },
    async start(name) {
      const { controller } = find(name);
      if (controller.state !== "stopped" && controller.state !== "quarantined") {
        throw new AdminError(grpcStatus.FAILED_PRECONDITION, `plugin ${name} is ${controller.state}; start applies to a stopped or quarantined plugin (restart replaces a running one)`);
      }
      await opened(name);
      await deps.plugins.startByOperator(name).catch(refused); // its first attempt: ready, or why not
      return statusOf(name);
    },
    async stop(name, caller) {
      find(name);
      await deps.plugins.stopByOperator(name, caller.identity).catch(refused);
      return statusOf(name);
    },
    async restart(name) {
      const { controller } = find(name);
      if (controller.state === "stopped" || controller.state === "quarantined") {
        await opened(name);
        await deps.plugins.startByOperator(name).catch(refused);
      } else await controller.restart().catch(refused);
      return statusOf(name);
    },
    async pause(name) {
      await find(name).controller.pause("requested by an operator").catch(refused);
      return statusOf(name);
    },
    async resume(name) {
      await find(name).controller.resume().catch(refused);
      return statusOf(name);
    },
    logs(name, tail, follow, send, signal) {
      const { output } = find(name);
      for (const line of output.tail(tail)) send(toLogLine(line), false);
      if (!follow) return Promise.resolve();
      return new Promise<void>((resolve, reject) => {
        const unfollow = output.follow(
          (line: OutputLine) => send(toLogLine(line)),
          (why) => reject(new AdminError(grpcStatus.NOT_FOUND, `plugin ${name} was ${why}: its output ends here`)),
        );
        signal.addEventListener("abort", () => {
          unfollow();
          resolve();
        }, { once: true });
      });
    },
    events(name, recent, send, signal) {
      if (name) find(name);
      for (const e of deps.events.recent(recent, name || undefined)) send(toEvent(e), false);
      return new Promise<void>((resolve) => {
        const unsubscribe = deps.events.subscribe((e) => {
          if (!name || e.plugin === name) send(toEvent(e));
        });
        signal.addEventListener("abort", () => {
          unsubscribe();
          resolve();
        }, { once: true });
      });
    },
    async validate(path, content): Promise<ValidateConfigResponse> {
      // Root reads only the file it runs: any other path would have it read
      // (and quote in its problems) what the admin calling may not read.
      // Text sent is validated as it is (an empty file's included); a path
      // other than the running file's comes only as the name of text sent.
      const running = deps.reloader.configFile;
      const sent = content !== "" || (path !== "" && path !== running);
      if (Buffer.byteLength(content) > MAX_CONFIG_BYTES) throw new AdminError(grpcStatus.INVALID_ARGUMENT, `a config of more than ${MAX_CONFIG_BYTES} bytes`);
      const file = sent ? path || "config" : running;
      if (!file) throw new AdminError(grpcStatus.INVALID_ARGUMENT, "send the config's content: this supervisor was started without a file");
      const invalid = (problems: ConfigProblem[]): ValidateConfigResponse => {
        const shown = problems.slice(0, MAX_PROBLEMS).map(formatProblem);
        const more = problems.length - shown.length;
        return { valid: false, errors: more > 0 ? [...shown, `... and ${more} more`] : shown, plugins: [] };
      };
      const failed = (message: string): ValidateConfigResponse => ({ valid: false, errors: [`${file}: ${message}`], plugins: [] });
      if (sent) {
        // The daemon's own file, as corralctl read it (by any path: a link's,
        // symbolic or hard, too), is checked as a reload would check it: under its own name
        // (relative paths in it resolve from its directory) and against the
        // config in force. Resolving an admin's path tells no more than
        // whether it is that file.
        const own = running !== undefined && path !== "" && (path === running || (await sameFile(path, running)));
        // Off the event loop; host paths (read-only grants) are looked for
        // only for the daemon's own file, read by the daemon.
        let checked: CheckedText;
        try {
          checked = await checkConfigText(content, own ? running : nodePath.resolve(file));
        } catch (err) {
          if (err instanceof ChecksBusy) throw new AdminError(grpcStatus.RESOURCE_EXHAUSTED, err.message);
          throw err;
        }
        if ("problems" in checked) return invalid(checked.problems);
        if ("failure" in checked) return failed(checked.failure);
        if (own) {
          const refusals = await reloadRefusals(deps.reloader.config, checked.config);
          if (refusals.length > 0) return { valid: false, errors: refusals.map((r) => `${file}: ${r}`), plugins: [] };
        }
        return { valid: true, errors: [], plugins: checked.plugins };
      }
      try {
        const config = await loadConfig(file);
        // What `corralctl validate && corralctl reload` relies on: a file valid here is one the reload takes.
        const refusals = await reloadRefusals(deps.reloader.config, config);
        if (refusals.length > 0) return { valid: false, errors: refusals.map((r) => `${file}: ${r}`), plugins: [] };
        return { valid: true, errors: [], plugins: config.plugins.map((p) => p.name) };
      } catch (err) {
        return err instanceof ConfigError ? invalid(err.problems) : failed((err as Error).message);
      }
    },
    reload: () => deps.reloader.reload(),
  };
}

/** Whether two paths name one file: through a symlink, a hard link or a bind mount too. */
async function sameFile(a: string, b: string): Promise<boolean> {
  const [sa, sb] = await Promise.all([stat(a, { bigint: true }).catch(() => undefined), stat(b, { bigint: true }).catch(() => undefined)]);
  return sa !== undefined && sb !== undefined && sa.dev === sb.dev && sa.ino === sb.ino;
}

function toEvent(e: PluginEvent): Event {
  return { atUnixMs: e.at, plugin: e.plugin, instance: e.instance ?? "", kind: e.kind, message: e.message, from: e.from ?? "", to: e.to ?? "" };
}

/** A line of a plugin's output as the Logs RPC sends it (OutputLine's `at` is LogLine's at_unix_ms). */
function toLogLine(l: OutputLine): LogLine {
  return { atUnixMs: l.at, plugin: l.plugin, instance: l.instance, stream: l.stream, line: l.line };
}
