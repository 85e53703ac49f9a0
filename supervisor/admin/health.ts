// The admin API's alerts and diagnostics, on top of the alert book and the
// diagnostics store the breakers fill.
import { status as grpcStatus } from "@grpc/grpc-js";
import type { Alert } from "../../proto/gen/ts/corral/admin/v1/Alert.ts";
import type { Diagnostic } from "../../proto/gen/ts/corral/admin/v1/Diagnostic.ts";
import { alertKinds, type AlertBook, type AlertKind } from "../breakers/alerts.ts";
import type { DiagnosticsStore, Diagnostic as StoredDiagnostic } from "../diagnostics/store.ts";
import type { PluginInstance } from "../plugin/instance.ts";
import { AdminError, type HealthAdmin } from "./server.ts";
import { shownNames } from "./messages.ts";

export function healthAdmin(deps: {
  alerts: AlertBook;
  diagnostics: DiagnosticsStore;
  plugins: () => string[];
  instance: (plugin: string) => PluginInstance | undefined;
}): HealthAdmin {
  const known = (plugin: string) => {
    if (plugin && !deps.plugins().includes(plugin)) throw new AdminError(grpcStatus.NOT_FOUND, `no such plugin: ${shownNames([plugin])}`);
  };
  const describe = (d: StoredDiagnostic): Diagnostic => ({ plugin: d.plugin, path: d.file, bytes: d.bytes, atUnixMs: d.at.getTime() });
  return {
    alerts(plugin, includeAcknowledged) {
      known(plugin);
      const list = includeAcknowledged ? deps.alerts.list() : deps.alerts.open();
      return list
        .filter((a) => !plugin || a.plugin === plugin)
        .map(
          (a): Alert => ({
            kind: a.kind,
            plugin: a.plugin ?? "",
            message: a.message,
            evidence: a.evidence,
            atUnixMs: a.at,
            acknowledged: a.acknowledged,
          }),
        );
    },
    ack(plugin, kind) {
      if (!plugin) throw new AdminError(grpcStatus.INVALID_ARGUMENT, "name the plugin whose alerts to acknowledge");
      known(plugin);
      if (kind && !(alertKinds as readonly string[]).includes(kind)) {
        throw new AdminError(grpcStatus.INVALID_ARGUMENT, `no alert kind ${JSON.stringify(kind)}: one of ${alertKinds.join(", ")}`);
      }
      return kind ? deps.alerts.ack(kind as AlertKind, plugin) : deps.alerts.ackAll(plugin);
    },
    async diagnostics(plugin) {
      if (!plugin) throw new AdminError(grpcStatus.INVALID_ARGUMENT, "name the plugin whose diagnostics to list");
      known(plugin);
      return (await deps.diagnostics.list(plugin)).map(describe);
    },
    async capture(plugin, cpuMs) {
      if (!plugin) throw new AdminError(grpcStatus.INVALID_ARGUMENT, "name the plugin whose diagnostics to capture");
      known(plugin);
      const instance = deps.instance(plugin);
      if (!instance) throw new AdminError(grpcStatus.FAILED_PRECONDITION, `plugin ${plugin} has no running instance`);
      if (cpuMs > 30_000) throw new AdminError(grpcStatus.INVALID_ARGUMENT, "a CPU profile is at most 30000 ms");
      const files = await instance.captureDiagnostics("requested by an operator", cpuMs);
      return (await deps.diagnostics.list(plugin)).filter((d) => files.includes(d.file)).map(describe);
    },
  };
}
