// What a reload from the config in force to `next` would refuse before it
// changed anything, or fail for a plugin: what `corralctl validate` says of
// the daemon's own file, so that `corralctl validate && corralctl reload`
// holds. (The reload itself checks the same, config-reload.ts.)
import { constants } from "node:fs";
import { access, stat } from "node:fs/promises";
import type { Config, PluginConfig } from "./schema.ts";
import { diffConfig } from "./diff.ts";

export async function reloadRefusals(running: Config, next: Config): Promise<string[]> {
  const diff = diffConfig(running, next);
  const refusals: string[] = [];
  if (diff.needsRestart.length > 0) {
    refusals.push(`${diff.needsRestart.join(", ")} changed; only a restart of the supervisor applies that, and a reload refuses it`);
  }
  // The reload imports every binary of `next` (one unchanged in the file may
  // have a new build at its path): in the file's order.
  const added = new Set(diff.added.map((p) => p.name));
  for (const plugin of next.plugins) {
    const problem = await unreadable(plugin);
    if (problem) refusals.push(`plugin ${plugin.name}: its binary ${plugin.binary} ${problem}; a reload would ${added.has(plugin.name) ? "refuse the plugin's addition" : "fail for the plugin"}`);
  }
  return refusals;
}

/** Why `plugin`'s binary cannot be imported, if it cannot. */
async function unreadable(plugin: PluginConfig): Promise<string | undefined> {
  try {
    if (!(await stat(plugin.binary)).isFile()) return "is not a regular file";
    await access(plugin.binary, constants.R_OK);
    return undefined;
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    return code === "ENOENT" ? "does not exist" : code === "EACCES" ? "cannot be read" : `cannot be read: ${(err as Error).message}`;
  }
}
