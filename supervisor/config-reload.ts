// A config reload: the config file read again and the difference applied
// to the running plugins, one reload at a time. The supervisor owns one,
// and waits for the reload under way when it stops.
import { status as grpcStatus } from "@grpc/grpc-js";
import type { ReloadResponse } from "../proto/gen/ts/corral/admin/v1/ReloadResponse.ts";
import { AdminError } from "./admin/server.ts";
import { diffConfig, needsNewInstance } from "./config/diff.ts";
import { ConfigError, loadConfig } from "./config/load.ts";
import type { Config, PluginConfig } from "./config/schema.ts";
import { mayShareAPort } from "./host-port.ts";
import type { Logger } from "./log.ts";
import type { EventLog } from "./observe/event-log.ts";
import type { PluginSet } from "./plugin-set.ts";
import { warnOfCpuAboveHost } from "./plugin/sampler.ts";
import { warnOfIpcGrants } from "../sandbox/grants.ts";

export interface ConfigReloaderOptions {
  /** The config in force at the start. */
  config: Config;
  /** The file it was read from; without one, a reload is refused. */
  configFile: string | undefined;
  plugins: PluginSet;
  events: EventLog;
  log: Logger;
  /** True once the supervisor stops: nothing more is added or started. */
  stopping: () => boolean;
  /** Called as a reload begins, and when it is over (applied, partly applied or rejected), with a summary. */
  onReloading?: () => Promise<unknown>;
  onReloaded?: (summary: string) => Promise<unknown>;
}

export class ConfigReloader {
  readonly #options: ConfigReloaderOptions;
  #config: Config;
  #reloading: Promise<unknown> = Promise.resolve();

  constructor(options: ConfigReloaderOptions) {
    this.#options = options;
    this.#config = options.config;
  }

  /** The config in force: what the last reload applied (a failed plugin keeps its old entry). */
  get config(): Config {
    return this.#config;
  }

  get configFile(): string | undefined {
    return this.#options.configFile;
  }

  /** Settles when the reload under way, if any, is over. */
  get settled(): Promise<unknown> {
    return this.#reloading;
  }

  /**
   * Reads the config file again and applies the difference: removed plugins
   * are stopped, added ones started, changed ones rolled through the
   * hot-update path (a new instance beside the old; a new binary becomes a
   * new release). A file that fails validation, or that changes what only a
   * restart can (directories, trust domain, sandbox ranges), changes
   * nothing: rejected with AdminError naming every problem. A plugin whose
   * new instance fails to become ready keeps its old instance and config,
   * and is listed as failed. One reload at a time.
   */
  reload(): Promise<ReloadResponse> {
    if (this.#options.stopping()) return Promise.reject(new AdminError(grpcStatus.UNAVAILABLE, "the supervisor is stopping"));
    const next = this.#reloading.then(async () => {
      await this.#options.onReloading?.().catch(() => {});
      let summary = "reload rejected; the running config stays";
      try {
        const result = await this.#reload();
        summary = summarize(result);
        return result;
      } finally {
        await this.#options.onReloaded?.(summary).catch(() => {});
      }
    });
    this.#reloading = next.catch(() => {});
    return next;
  }

  async #reload(): Promise<ReloadResponse> {
    const { configFile: file, log, plugins, events, stopping } = this.#options;
    if (!file) throw new AdminError(grpcStatus.FAILED_PRECONDITION, "this supervisor was started without a config file");
    let next: Config;
    try {
      next = await loadConfig(file);
    } catch (err) {
      const message = err instanceof ConfigError ? `invalid config; the running one stays:\n${err.message}` : (err as Error).message;
      log.error({ config: file }, message);
      this.#rejected(message);
      throw new AdminError(grpcStatus.INVALID_ARGUMENT, message);
    }
    const diff = diffConfig(this.#config, next);
    if (diff.needsRestart.length > 0) {
      const message = `${file}: ${diff.needsRestart.join(", ")} changed; only a restart of the supervisor applies that, so nothing was reloaded`;
      log.error({ config: file, fields: diff.needsRestart }, message);
      this.#rejected(message);
      throw new AdminError(grpcStatus.FAILED_PRECONDITION, message);
    }
    log.info(
      { config: file, added: diff.added.map((p) => p.name), removed: diff.removed, changed: diff.changed.map((c) => `${c.plugin.name} (${c.fields.join(", ")})`) },
      "reloading config",
    );
    const result: ReloadResponse = { added: [], removed: [], changed: [], unchanged: [], failed: [] };
    const applied = new Map(this.#config.plugins.map((p) => [p.name, p]));
    for (const name of diff.removed) {
      await plugins.remove(name);
      applied.delete(name);
      result.removed!.push(name);
    }
    await this.#releaseMovedPorts(diff);
    await Promise.all([
      ...diff.added.map(async (plugin) => {
        const stoppingNow = `${plugin.name}: the supervisor is stopping`;
        if (stopping()) return void result.failed!.push(stoppingNow);
        try {
          const parts = await plugins.add(plugin, { byReload: true });
          await plugins.open(plugin.name);
          if (stopping()) throw new Error("the supervisor is stopping"); // added, not started: the stop closes it
          // Its first attempt decides, as a changed plugin's new instance
          // does: one that fails is not added (and would not wait for a
          // crash loop that never quarantines).
          // Unless an operator stopped it meanwhile: added, and stopped.
          const started = await plugins.startAdded(plugin.name);
          if (started && parts.controller.state !== "ready") throw new Error(`not ready: ${parts.controller.state}: ${parts.controller.reason}`);
          applied.set(plugin.name, plugin);
          result.added!.push(plugin.name);
        } catch (err) {
          await plugins.remove(plugin.name, `not added: ${(err as Error).message}`).catch(() => {});
          result.failed!.push(`${plugin.name}: ${(err as Error).message}`);
        }
      }),
      ...diff.changed.map(async (change) => {
        const { plugin, previous } = change;
        const parts = plugins.get(plugin.name)!;
        const inForce = (config: PluginConfig) => () => {
          if (config === plugin) {
            warnOfCpuAboveHost(plugin, log);
            warnOfIpcGrants(plugin, log);
          }
          parts.controller.reconfigure(config);
          parts.deployer.keep = config.releases.keep;
          parts.config = config;
        };
        const tcpChanged = plugin.dataPlane.tcp !== previous.dataPlane.tcp;
        try {
          if (tcpChanged) await parts.address?.setTcp(plugin.dataPlane.tcp, connectionsEndWithin(previous));
          // In force at its turn in the plugin's queue, not before: a deploy
          // still under way starts its instance under the config it began with.
          // Given up, the old instance and its config stay.
          await parts.deployer.reload(plugin.binary, needsNewInstance(change), { apply: inForce(plugin), revert: inForce(previous) });
          applied.set(plugin.name, plugin);
          result.changed!.push(plugin.name);
        } catch (err) {
          // ...and its TCP address: listening again where the old config says.
          if (tcpChanged) {
            await parts.address?.setTcp(previous.dataPlane.tcp, connectionsEndWithin(plugin)).catch((undo: Error) => {
              log.error({ plugin: plugin.name, err: undo.message }, "putting back the plugin's TCP address failed");
            });
          }
          result.failed!.push(`${plugin.name}: ${(err as Error).message}`);
        }
      }),
      // Unchanged entries may still name a binary whose content changed.
      ...diff.unchanged.map(async (plugin) => {
        const parts = plugins.get(plugin.name)!;
        try {
          const outcome = await parts.deployer.reload(plugin.binary, false);
          (outcome.changed ? result.changed! : result.unchanged!).push(plugin.name);
        } catch (err) {
          result.failed!.push(`${plugin.name}: ${(err as Error).message}`);
        }
      }),
    ]);
    // The running config is what was applied: a failed plugin keeps its old entry.
    this.#config = { ...next, plugins: next.plugins.flatMap((p) => applied.get(p.name) ?? []) };
    const summary = summarize(result);
    events.emit({ at: Date.now(), plugin: "", kind: "config", message: summary, to: "applied" });
    (result.failed!.length ? log.warn.bind(log) : log.info.bind(log))({ ...result }, summary);
    return result;
  }

  /**
   * A TCP port that moves from one plugin to another in a reload (a swap
   * of two addresses, say): its giver stops listening on it first, its
   * connections kept for its stopTimeout as a move keeps them. Otherwise
   * the taker's listen, made in parallel, found it in use, and failed.
   */
  async #releaseMovedPorts(diff: ReturnType<typeof diffConfig>): Promise<void> {
    const moved = diff.changed.filter((c) => c.plugin.dataPlane.tcp !== c.previous.dataPlane.tcp);
    const taken = [...diff.added, ...moved.map((c) => c.plugin)].flatMap((p) => (p.dataPlane.tcp ? [{ name: p.name, address: p.dataPlane.tcp }] : []));
    await Promise.all(
      moved.map(async ({ plugin, previous }) => {
        const old = previous.dataPlane.tcp;
        if (!old || !taken.some((t) => t.name !== plugin.name && mayShareAPort(old, t.address))) return;
        this.#options.log.info({ plugin: plugin.name, tcp: old }, "letting go of the TCP address another plugin takes");
        await this.#options.plugins.get(plugin.name)?.address?.setTcp(undefined, connectionsEndWithin(previous));
      }),
    );
  }

  /**
   * A reload refused: an event and a count (corral_config_reloads_total), as
   * for one applied. A SIGHUP (systemctl reload) has no one to answer, and
   * the log alone was easy to miss.
   */
  #rejected(message: string): void {
    const lines = message.split("\n");
    const shown = lines.slice(0, 4).join("\n") + (lines.length > 4 ? `\n... and ${lines.length - 4} more lines (the supervisor's log has them)` : "");
    this.#options.events.emit({ at: Date.now(), plugin: "", kind: "config", message: `config reload rejected: ${shown}`, to: "rejected" });
  }
}

function summarize(result: ReloadResponse): string {
  return `config reloaded: ${result.added!.length} added, ${result.removed!.length} removed, ${result.changed!.length} changed, ${result.failed!.length} failed`;
}

/**
 * How long the connections of a TCP address a reload moves are left to
 * end: the plugin recycles each within maxConnectionAge and its grace (a
 * GOAWAY the relay passes on, after which its client reconnects, to the
 * new address), so none is cut in a call. Cut at stopTimeout, as before,
 * busy clients' calls failed with a reset, and so did a failed move's, on
 * an address that had not changed.
 */
function connectionsEndWithin(plugin: PluginConfig): number {
  return plugin.dataPlane.maxConnectionAge + plugin.dataPlane.maxConnectionAgeGrace + 1000;
}
