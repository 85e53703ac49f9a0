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
  // A binary the reload imports: of a plugin added, or given another path; in the file's order.
  const added = new Set(diff.added.map((p) => p.name));
  const rebinaried = new Set(diff.changed.filter((c) => c.fields.includes("binary")).map((c) => c.plugin.name));
  for (const plugin of next.plugins.filter((p) => added.has(p.name) || rebinaried.has(p.name))) {
    const problem = await unreadable(plugin);
    if (problem) refusals.push(`plugin ${plugin.name}: its binary ${plugin.binary} ${problem}; a reload would refuse the plugin's ${added.has(plugin.name) ? "addition" : "change"}`);
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
