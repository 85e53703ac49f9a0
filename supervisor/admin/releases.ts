// The admin API's releases: deploy, rollback and list, on top of each
// plugin's deployer and release store.
import { status as grpcStatus } from "@grpc/grpc-js";
import path from "node:path";
import type { DeployResponse } from "../../proto/gen/ts/corral/admin/v1/DeployResponse.ts";
import type { Release } from "../../proto/gen/ts/corral/admin/v1/Release.ts";
import { UpdateFailed } from "../plugin/controller.ts";
import type { Deployer, DeployOutcome } from "../releases/deployer.ts";
import { ReleaseError, type ReleaseStore } from "../releases/store.ts";
import { AdminError, type ReleaseAdmin } from "./server.ts";
import { shownNames } from "./messages.ts";

export function releaseAdmin(deps: {
  plugin: (name: string) => { deployer: Deployer; store: ReleaseStore; servingRelease: string | undefined } | undefined;
}): ReleaseAdmin {
  const find = (name: string) => {
    if (!name) throw new AdminError(grpcStatus.INVALID_ARGUMENT, "name the plugin");
    const plugin = deps.plugin(name);
    if (!plugin) throw new AdminError(grpcStatus.NOT_FOUND, `no such plugin: ${shownNames([name])}`);
    return plugin;
  };
  const answer = (plugin: string, outcome: DeployOutcome): DeployResponse => ({
    plugin,
    release: outcome.release,
    previous: outcome.previous,
    instance: outcome.instance,
    changed: outcome.changed,
    durationMs: outcome.durationMs,
  });
  const refused = (err: unknown): never => {
    if (err instanceof ReleaseError) throw new AdminError(grpcStatus.INVALID_ARGUMENT, err.message);
    if (err instanceof UpdateFailed) throw new AdminError(grpcStatus.FAILED_PRECONDITION, err.message);
    throw err;
  };
  return {
    async deploy(name, binary, caller) {
      const { deployer } = find(name);
      if (!path.isAbsolute(binary)) throw new AdminError(grpcStatus.INVALID_ARGUMENT, `binary "${binary}" must be an absolute path`);
      return answer(name, await deployer.deploy(binary, { readableByAll: !caller.root, cancelled: caller.cancelled }).catch(refused));
    },
    async rollback(name, release, caller) {
      const { deployer } = find(name);
      return answer(name, await deployer.rollback(release || undefined, { cancelled: caller.cancelled }).catch(refused));
    },
    async list(name) {
      const { store, servingRelease } = find(name);
      return (await store.list()).map(
        (r): Release => ({
          sha256: r.sha256,
          sizeBytes: r.sizeBytes,
          importedUnixMs: r.importedAt,
          activatedUnixMs: r.activatedAt,
          current: r.current,
          serving: r.sha256 === servingRelease,
        }),
      );
    },
  };
}
