// What a config reload has to do: the difference between the running config
// and a new one. Pure. Plugins are compared field by field (after defaults),
// so a reformatted file is no change; supervisor-wide settings cannot change
// under a running supervisor (its directories, trust domain, sockets and
// cgroups are in use), so a difference there is reported for a restart.
import type { Config, PluginConfig } from "./schema.ts";

export interface PluginChange {
  plugin: PluginConfig;
  previous: PluginConfig;
  /** The top-level fields of the plugin's entry that differ, e.g. ["limits", "env"]. */
  fields: string[];
}

export interface ConfigDiff {
  added: PluginConfig[];
  removed: string[];
  changed: PluginChange[];
  unchanged: PluginConfig[];
  /** Supervisor-wide fields that differ: applied only by a restart. */
  needsRestart: string[];
}

// (The metrics endpoint too: it is bound once, at start.)
const SUPERVISOR_FIELDS = ["stateDir", "runtimeDir", "trustDomain", "admin", "dataPlane", "sandbox", "metrics", "diagnostics"] as const;

/**
 * `field` if it changed, or, of a section (an object on both sides), the
 * fields within it that changed: `dataPlane.group`, not `dataPlane`, which
 * a plugin's entry has too, and may change in a reload.
 */
function changedFields(field: string, before: unknown, after: unknown): string[] {
  if (canonical(before) === canonical(after)) return [];
  const section = (v: unknown): v is Record<string, unknown> => typeof v === "object" && v !== null && !Array.isArray(v);
  if (!section(before) || !section(after)) return [field];
  const keys = [...new Set([...Object.keys(before), ...Object.keys(after)])].sort();
  return keys.filter((k) => canonical(before[k]) !== canonical(after[k])).map((k) => `${field}.${k}`);
}

export function diffConfig(running: Config, next: Config): ConfigDiff {
  const before = new Map(running.plugins.map((p) => [p.name, p]));
  const after = new Map(next.plugins.map((p) => [p.name, p]));
  const diff: ConfigDiff = { added: [], removed: [], changed: [], unchanged: [], needsRestart: [] };
  for (const field of SUPERVISOR_FIELDS) diff.needsRestart.push(...changedFields(field, running[field], next[field]));
  for (const [name, plugin] of after) {
    const previous = before.get(name);
    if (!previous) {
      diff.added.push(plugin);
      continue;
    }
    const keys = new Set([...Object.keys(previous), ...Object.keys(plugin)]) as Set<keyof PluginConfig>;
    const fields = [...keys].filter((k) => canonical(previous[k]) !== canonical(plugin[k])).sort();
    if (fields.length > 0) diff.changed.push({ plugin, previous, fields });
    else diff.unchanged.push(plugin);
  }
  for (const name of before.keys()) if (!after.has(name)) diff.removed.push(name);
  return diff;
}

/**
 * Whether a changed plugin needs a new instance for its change to apply.
 * Not for `binary` (a new binary comes in as a release, through its own
 * hot update), `releases` (what the release store keeps) or the address's
 * `dataPlane.tcp` listener: none of these is in the instance.
 */
export function needsNewInstance(change: PluginChange): boolean {
  const { tcp: _tcpBefore, ...dataPlaneBefore } = change.previous.dataPlane;
  const { tcp: _tcpAfter, ...dataPlaneAfter } = change.plugin.dataPlane;
  return change.fields.some((field) => {
    if (field === "binary" || field === "releases") return false;
    if (field === "dataPlane") return canonical(dataPlaneBefore) !== canonical(dataPlaneAfter);
    return true;
  });
}

/** JSON with object keys sorted, so equal values compare equal whatever their key order. */
export function canonical(value: unknown): string {
  return JSON.stringify(value, (_key, v: unknown) =>
    v && typeof v === "object" && !Array.isArray(v) ? Object.fromEntries(Object.entries(v as Record<string, unknown>).sort(([a], [b]) => a.localeCompare(b))) : v,
  ) ?? "undefined";
}
