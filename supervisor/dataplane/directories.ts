// The data plane's directories under the runtime directory, and who may
// enter them. `plugins/` holds the stable addresses (links) and is anyone's
// to read; `instances/` and `refusals/`, where the links lead, are root's and
// dataPlane.group's (0710), or anyone's to traverse (0711) without a group.
// The sandboxes need neither: the launcher, host root, opens each instance's
// directory for its sandbox.
//
// Made right at the start whatever was there before (a directory made by
// hand, or by a supervisor with another group), and again by whatever makes
// one that has gone (a runtime directory under /tmp, cleaned): made with
// mkdir's mode alone, it was root's group and open to anyone.
import { chmod, chown, mkdir } from "node:fs/promises";
import path from "node:path";

export type DataPlaneDirectory = "plugins" | "instances" | "refusals";

export class DataPlaneDirectories {
  readonly runtimeDir: string;
  /** dataPlane.group's gid; undefined when it is not set. */
  readonly #gid: number | undefined;

  constructor(runtimeDir: string, gid: number | undefined) {
    this.runtimeDir = runtimeDir;
    this.#gid = gid;
  }

  path(dir: DataPlaneDirectory): string {
    return path.join(this.runtimeDir, dir);
  }

  /** Makes `dir` if it is missing, and gives it its owner and mode. */
  async ensure(dir: DataPlaneDirectory): Promise<void> {
    const file = this.path(dir);
    await mkdir(file, { recursive: true, mode: 0o700 });
    const gid = dir === "plugins" ? 0 : (this.#gid ?? 0);
    await chown(file, 0, gid);
    await chmod(file, dir === "plugins" ? 0o755 : this.#gid === undefined ? 0o711 : 0o710);
  }

  async ensureAll(): Promise<void> {
    for (const dir of ["plugins", "instances", "refusals"] as const) await this.ensure(dir);
  }
}
