// Reads a config file and either returns a complete, validated Config or
// every problem in it, each naming file, line, field and value. A config with
// a problem is never half-applied: callers get all or nothing.
import { existsSync, readFileSync, realpathSync } from "node:fs";
import path from "node:path";
import { isAlias, isMap, isNode, isScalar, LineCounter, parseDocument, visit, type Document, type Node } from "yaml";
import type { z } from "zod";
import { corralDirProblem, grantProblem } from "../../sandbox/grants.ts";
import { instanceDirectory, newInstanceId, SOCKET_NAME } from "../plugin/sandbox-spec.ts";
import { shareAPort } from "../host-port.ts";
import { sandboxIdsTaken } from "../sandbox-ids.ts";
import { configSchema, type Config, type ParsedConfig } from "./schema.ts";

export interface ConfigProblem {
  file: string;
  line: number;
  column: number;
  /** Dotted path of the field, e.g. "plugins[0].limits.memory"; "" for the document. */
  field: string;
  /** The offending value as written, when there is one. */
  value?: string;
  message: string;
}

export class ConfigError extends Error {
  readonly problems: ConfigProblem[];
  constructor(problems: ConfigProblem[]) {
    super(problems.map(formatProblem).join("\n"));
    this.name = "ConfigError";
    this.problems = problems;
  }
}

/** The longest value a problem quotes: a whole document read as one string is not repeated back. */
const QUOTED_VALUE_MAX = 80;

export function formatProblem(p: ConfigProblem): string {
  const where = p.field ? `${p.field}: ` : "";
  const quoted = p.value !== undefined && p.value.length > QUOTED_VALUE_MAX ? `${p.value.slice(0, QUOTED_VALUE_MAX)}…` : p.value;
  // Left out only where the message quotes it itself, not wherever its text
  // happens to appear ("1" in "expected number to be >=16").
  const value = quoted !== undefined && !p.message.includes(`"${quoted}"`) && !p.message.includes(`'${quoted}'`) ? ` (value: ${quoted})` : "";
  return `${p.file}:${p.line}:${p.column}: ${where}${p.message}${value}`;
}

/**
 * What an empty config (nothing but comments, or nothing at all) is:
 * "refused" where it would replace a running one (a reload, and the
 * checks that stand for one), since it is more likely a file caught while
 * it was being written than one meant to remove every plugin; "defaults"
 * (no plugins) where nothing runs yet, as it always was at start.
 */
export type EmptyConfig = "refused" | "defaults";

/** Loads, validates and resolves a config file. Throws ConfigError listing every problem. */
export async function loadConfig(file: string, { empty = "refused" }: { empty?: EmptyConfig } = {}): Promise<Config> {
  const absolute = path.resolve(file);
  let text: string;
  try {
    // Synchronously: a small file, read once per start, reload or sandbox
    // run, where `corral sandbox` waits for it on its start's path.
    text = readFileSync(absolute, "utf8");
  } catch (err) {
    throw new ConfigError([{ file: absolute, line: 0, column: 0, field: "", message: `cannot read config: ${(err as Error).message}` }]);
  }
  return parseConfig(text, absolute, { empty });
}

/**
 * What the aliases of a config may expand to, at most (the yaml library's
 * measure: uses of an anchor times the aliases within it). Its default,
 * 100, refused 101 plugins sharing `limits: *std`; this still stops an
 * exponential expansion before it costs anything.
 */
export const MAX_ALIAS_COUNT = 10_000;

/**
 * Validates config text as if it were read from `file` (used for relative
 * paths and messages). With `hostPaths` false, read-only grants are not looked for on this host:
 * text an admin sent (ValidateConfig) does not have root look at paths for
 * them (whether a path exists where they may not look is not theirs to learn).
 */
export function parseConfig(text: string, file: string, { hostPaths = true, empty = "refused" }: { hostPaths?: boolean; empty?: EmptyConfig } = {}): Config {
  const lineCounter = new LineCounter();
  // Unique keys are checked below, in one pass: the yaml library's own
  // check is quadratic (20 000 keys took 3 s of the event loop).
  // Merge keys (`<<: *defaults`), as YAML 1.1 has them: configs share limits that way.
  const doc = parseDocument(text, { lineCounter, prettyErrors: false, uniqueKeys: false, merge: true });
  const at = (offset: number) => {
    const pos = lineCounter.linePos(offset);
    return { line: pos.line, column: pos.col };
  };
  // The yaml library's warnings are refused too: an unknown tag (`!env
  // TOKEN`, `!vault path`, in the style of other tools) would otherwise be
  // taken silently as the literal text after it, and a plugin run with
  // "TOKEN" for its secret.
  const syntax = [
    ...[...doc.errors, ...doc.warnings].map((e) => ({ file, ...at(e.pos[0]), field: "", message: `YAML: ${e.message.split("\n")[0]}` })),
    ...repeatedKeys(doc).map((offset) => ({ file, ...at(offset), field: "", message: "YAML: Map keys must be unique" })),
  ];
  if (syntax.length > 0) throw new ConfigError(syntax);
  let raw: unknown;
  try {
    raw = doc.toJS({ maxAliasCount: MAX_ALIAS_COUNT });
  } catch (err) {
    // The yaml library's bound on what aliases expand to ("Excessive alias count ...").
    if (!(err instanceof ReferenceError)) throw err;
    throw new ConfigError([{ file, line: 1, column: 1, field: "", message: `YAML: aliases expand to more than ${MAX_ALIAS_COUNT} nodes` }]);
  }
  // Nothing but comments, or nothing at all (EmptyConfig).
  if ((raw === null || raw === undefined) && empty === "defaults") raw = {};
  if (raw === null || raw === undefined) {
    throw new ConfigError([
      { file, line: 1, column: 1, field: "", message: "the config is empty (nothing but comments, or nothing at all): write `{}` for all defaults; replace the file whole (write a new one beside it, then rename it over)" },
    ]);
  }
  const result = configSchema.safeParse(raw);
  const problems = [
    ...(result.success ? [] : result.error.issues.flatMap((issue) => problemsOf(issue, doc, file, at))),
    ...duplicateNames(raw).flatMap((issue) => problemsOf(issue, doc, file, at)),
  ];
  if (!result.success || problems.length > 0) throw new ConfigError(problems);
  const config = resolvePaths(result.data, path.dirname(file));
  const unusable = [...sharedCorralDirs(config, hostPaths), ...missingGrants(config, hostPaths), ...overlongSockets(config), ...sharedPorts(config), ...unknownGroup(config), ...takenSandboxIds(config)].flatMap((issue) =>
    problemsOf(issue, doc, file, at),
  );
  if (unusable.length > 0) throw new ConfigError(unusable);
  return config;
}

/** The sandboxes' ids must be no account's of this host: `serve` refuses them at start (sandbox-ids.ts). */
function takenSandboxIds(config: Config): z.core.$ZodIssue[] {
  const { uidBase, uidCount } = config.sandbox;
  const taken = sandboxIdsTaken(uidBase, uidCount);
  return taken === undefined ? [] : [{ code: "custom", path: ["sandbox", "uidBase"], message: taken, input: uidBase }];
}

/**
 * No two listeners of the config may take one port: the plugins' TCP
 * addresses and the metrics endpoint. The second would fail at its start
 * (the plugin not served over TCP), or take turns with the first.
 */
function sharedPorts(config: Config): z.core.$ZodIssue[] {
  const listeners: Array<{ path: (string | number)[]; address: string }> = [
    ...(config.metrics.listen ? [{ path: ["metrics", "listen"], address: config.metrics.listen }] : []),
    ...config.plugins.flatMap((plugin, index) => (plugin.dataPlane.tcp ? [{ path: ["plugins", index, "dataPlane", "tcp"], address: plugin.dataPlane.tcp }] : [])),
  ];
  const issues: z.core.$ZodIssue[] = [];
  listeners.forEach((listener, i) => {
    const first = listeners.slice(0, i).find((other) => shareAPort(other.address, listener.address));
    if (!first) return;
    issues.push({ code: "custom", path: listener.path, message: `takes the port of ${fieldName(first.path)} (${first.address})`, input: listener.address });
  });
  return issues;
}

/** admin.group and dataPlane.group, when names, must be groups of this host: `serve` looks them up at start. */
function unknownGroup(config: Config): z.core.$ZodIssue[] {
  const named = (["admin", "dataPlane"] as const).filter((section) => typeof config[section].group === "string");
  if (named.length === 0) return [];
  const groups = (() => {
    try {
      return readFileSync("/etc/group", "utf8");
    } catch {
      return undefined; // not ours to judge without it: serve says
    }
  })();
  if (groups === undefined) return [];
  const known = new Set(groups.split("\n").map((line) => line.split(":")[0]));
  return named.flatMap((section) => {
    const group = config[section].group as string;
    return known.has(group) ? [] : [{ code: "custom" as const, path: [section, "group"], message: `no group named "${group}" in /etc/group`, input: group }];
  });
}

/** The longest path a Unix socket can have: sun_path's 108 bytes, less the terminating NUL. */
export const MAX_SOCKET_PATH_BYTES = 107;

/**
 * Every socket the supervisor binds or connects to must have a path short
 * enough for sun_path, or listen() fails with a bare EINVAL at start.
 */
function overlongSockets(config: Config): z.core.$ZodIssue[] {
  const tooLong = (socket: string) => Buffer.byteLength(socket) > MAX_SOCKET_PATH_BYTES;
  const issues: z.core.$ZodIssue[] = [];
  if (tooLong(config.admin.socket)) {
    issues.push({
      code: "custom",
      path: config.admin.socket === path.join(config.runtimeDir, "admin.sock") ? ["runtimeDir"] : ["admin", "socket"],
      message: `the admin socket ${config.admin.socket} would be ${Buffer.byteLength(config.admin.socket)} bytes long, over the ${MAX_SOCKET_PATH_BYTES} a Unix socket's path can have`,
      input: config.admin.socket,
    });
  }
  config.plugins.forEach((plugin, index) => {
    // The longest of a plugin's sockets: its instances'.
    const socket = path.join(instanceDirectory(config.runtimeDir, newInstanceId(plugin.name)), SOCKET_NAME);
    if (!tooLong(socket)) return;
    issues.push({
      code: "custom",
      path: ["plugins", index, "name"],
      message: `its instances' sockets (${socket}) would be ${Buffer.byteLength(socket)} bytes long, over the ${MAX_SOCKET_PATH_BYTES} a Unix socket's path can have: shorten runtimeDir or the name`,
      input: plugin.name,
    });
  });
  return issues;
}

/** What the supervisor keeps in each of its directories, and sweeps or prunes there. */
const RUNTIME_ENTRIES = ["plugins", "refusals", "instances", "cli", "uids"];
const STATE_ENTRIES = ["plugins", "objects", "ca", "admin", "diagnostics"];

/**
 * runtimeDir and stateDir must be two directories, neither within what the
 * other keeps: each start removes the runtime directory's sockets of
 * plugins/ (and its instances), which in a shared directory was the release
 * store's plugins/: every deployed release and its history went at every
 * start, and the plugins had none to run.
 */
function sharedCorralDirs(config: Config, hostPaths: boolean): z.core.$ZodIssue[] {
  const real = (p: string) => (hostPaths ? realPathOr(p) : path.resolve(p));
  const runtimeDir = real(config.runtimeDir);
  const stateDir = real(config.stateDir);
  const within = (dir: string, parent: string) => dir === parent || dir.startsWith(`${parent}/`);
  const issue = (message: string) => [{ code: "custom" as const, path: ["runtimeDir"], message, input: config.runtimeDir }];
  if (runtimeDir === stateDir) {
    return issue(`runtimeDir ${runtimeDir} is stateDir too: they must be two directories (each start removes the runtime directory's plugins/, which holds the sockets, where the state directory's plugins/ holds every plugin's releases)`);
  }
  const inRuntime = RUNTIME_ENTRIES.find((entry) => within(stateDir, path.join(runtimeDir, entry)));
  if (inRuntime) return issue(`stateDir ${stateDir} lies within runtimeDir's ${inRuntime}/, which the supervisor sweeps: put it elsewhere`);
  const inState = STATE_ENTRIES.find((entry) => within(runtimeDir, path.join(stateDir, entry)));
  if (inState) return issue(`runtimeDir ${runtimeDir} lies within stateDir's ${inState}/, which the supervisor prunes: put it elsewhere`);
  return [];
}

/**
 * Read-only grants must name host paths that exist (a typo must not become
 * an empty mount), and keep to the launcher's rules (sandbox/grants.ts).
 */
function missingGrants(config: Config, hostPaths: boolean): z.core.$ZodIssue[] {
  // Through symlinks where the host is looked at: a grant of /var/run is one of /run.
  const real = (p: string) => (hostPaths ? realPathOr(p) : path.resolve(p));
  const corralDirs = { runtimeDir: real(config.runtimeDir), stateDir: real(config.stateDir) };
  return config.plugins.flatMap((plugin, index) =>
    plugin.readOnlyPaths.flatMap((grant, i) => {
      const problem =
        grantProblem(plugin.readOnlyPaths, i) ??
        corralDirProblem(real(grant), corralDirs) ??
        (!hostPaths || existsSync(grant) ? undefined : `${grant} does not exist on this host`);
      return problem === undefined ? [] : [{ code: "custom" as const, path: ["plugins", index, "readOnlyPaths", i], message: problem, input: grant }];
    }),
  );
}

/**
 * Plugin names must be unique. Checked on the raw document, beside the
 * schema, so a duplicate is reported together with every other problem.
 */
function duplicateNames(raw: unknown): z.core.$ZodIssue[] {
  const plugins = (raw as { plugins?: unknown }).plugins;
  if (!Array.isArray(plugins)) return [];
  const first = new Map<unknown, number>();
  const issues: z.core.$ZodIssue[] = [];
  plugins.forEach((plugin: unknown, index) => {
    const name = (plugin as { name?: unknown } | null)?.name;
    if (typeof name !== "string") return;
    const earlier = first.get(name);
    if (earlier === undefined) first.set(name, index);
    else {
      issues.push({
        code: "custom",
        path: ["plugins", index, "name"],
        message: `"${name}" is already the name of plugins[${earlier}]`,
        input: name,
      });
    }
  });
  return issues;
}

/** Where a mapping repeats a key (the offsets of the repeats). */
function repeatedKeys(doc: Document): number[] {
  // A key as the loaded object will have it: a scalar by its text (`1` and
  // "1" are one key), an alias by what it names, a collection by its YAML.
  const keyOf = (key: unknown): string => {
    const node = isAlias(key) ? key.resolve(doc) : key;
    if (isScalar(node)) return node.value === null ? "" : String(node.value);
    return String(node);
  };
  const offsets: number[] = [];
  visit(doc, {
    Map(_, map) {
      const seen = new Set<string>();
      for (const item of map.items) {
        const key = keyOf(item.key);
        if (seen.has(key)) offsets.push(isNode(item.key) ? (item.key.range?.[0] ?? 0) : 0);
        seen.add(key);
      }
    },
  });
  return offsets.sort((a, b) => a - b);
}

type Position = (offset: number) => { line: number; column: number };

function problemsOf(issue: z.core.$ZodIssue, doc: Document, file: string, at: Position): ConfigProblem[] {
  const issuePath = issue.path.filter((k): k is string | number => typeof k !== "symbol");
  if (issue.code === "unrecognized_keys") {
    // Point at each unknown key itself, not at the object holding it.
    const parent = issuePath.length ? doc.getIn(issuePath, true) : doc.contents;
    // Each key's node by its name, found once: a search per key is
    // quadratic, and a file of 60 000 unknown keys held the event loop 2 min.
    // By the key's text, as the loaded object (and so the schema) names it: `1:` is the number 1 in YAML, "1" here.
    const keyNodes = new Map<string, Node>();
    if (isMap(parent)) {
      for (const item of parent.items) {
        if (!isScalar(item.key)) continue;
        const name = String(item.key.value);
        if (!keyNodes.has(name)) keyNodes.set(name, item.key);
      }
    }
    return issue.keys.map((key) => {
      const node = keyNodes.get(key);
      const range = isNode(node) ? node.range : undefined;
      return {
        file,
        ...at(range?.[0] ?? 0),
        field: fieldName([...issuePath, key]),
        value: key,
        message: `unknown field "${key}"`,
      };
    });
  }
  const node = issuePath.length ? doc.getIn(issuePath, true) : doc.contents;
  // A field that is not there is pointed at where it belongs: the nearest
  // enclosing entry that is (plugins[1], not the file's first line).
  let where: unknown = node;
  for (let n = issuePath.length - 1; where === undefined && n >= 0; n--) where = n > 0 ? doc.getIn(issuePath.slice(0, n), true) : doc.contents;
  const range = isNode(where) ? where.range : undefined;
  const value = isScalar(node) ? String(node.value) : undefined;
  const message =
    issue.code === "invalid_type" && node === undefined ? `is required (${issue.expected})` : issue.message;
  return [{ file, ...at(range?.[0] ?? 0), field: fieldName(issuePath), ...(value !== undefined && { value }), message }];
}

function fieldName(parts: (string | number)[]): string {
  return parts.map((p, i) => (typeof p === "number" ? `[${p}]` : i === 0 ? p : `.${p}`)).join("");
}

function resolvePaths(config: ParsedConfig, base: string): Config {
  const resolve = (p: string) => path.resolve(base, p);
  const runtimeDir = resolve(config.runtimeDir);
  return {
    ...config,
    stateDir: resolve(config.stateDir),
    runtimeDir,
    admin: { ...config.admin, socket: config.admin.socket ? resolve(config.admin.socket) : path.join(runtimeDir, "admin.sock") },
    plugins: config.plugins.map((plugin) => ({
      ...plugin,
      binary: resolve(plugin.binary),
      ...(plugin.certificate && {
        certificate: { ...plugin.certificate, cert: resolve(plugin.certificate.cert), key: resolve(plugin.certificate.key) },
      }),
    })),
  };
}

/** `p` with its symlinks resolved, as far as it exists (a runtimeDir is made at the start). */
function realPathOr(p: string): string {
  const absolute = path.resolve(p);
  try {
    return realpathSync(absolute);
  } catch {
    const parent = path.dirname(absolute);
    return parent === absolute ? absolute : path.join(realPathOr(parent), path.basename(absolute));
  }
}
