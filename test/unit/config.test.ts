import { mkdirSync, mkdtempSync, rmSync, symlinkSync } from "node:fs";
import path from "node:path";
import { describe, expect, it } from "vitest";
import { ipcGrants, warnOfIpcGrants } from "../../sandbox/grants.ts";
import { ConfigError, formatProblem, parseConfig } from "../../supervisor/config/load.ts";
import { parseDuration, parseSize } from "../../supervisor/config/units.ts";
import { breakerDefaults } from "../../supervisor/breakers/config.ts";
import { warningSignsConfig } from "../../supervisor/plugin/runtime-watch.ts";

const file = "/etc/corral/corral.yaml";

function problems(yaml: string) {
  try {
    parseConfig(yaml, file);
  } catch (err) {
    expect(err).toBeInstanceOf(ConfigError);
    return (err as ConfigError).problems;
  }
  throw new Error("config was accepted");
}

describe("config units", () => {
  it("parses durations and sizes strictly", () => {
    expect(parseDuration("250ms")).toBe(250);
    expect(parseDuration("1.5s")).toBe(1500);
    expect(parseDuration("2m")).toBe(120_000);
    expect(parseDuration("24h")).toBe(86_400_000);
    expect(parseDuration("10")).toBeInstanceOf(Error);
    expect(parseDuration("5 sec")).toBeInstanceOf(Error);
    expect(parseSize("128MiB")).toBe(128 * 1024 * 1024);
    expect(parseSize("512KiB")).toBe(512 * 1024);
    expect(parseSize("1GB")).toBe(1e9);
    expect(parseSize("12XB")).toBeInstanceOf(Error);
  });
});

describe("config validation", () => {
  it("refuses an empty config, or one of comments only (a file caught mid-write), and takes {} for all defaults", () => {
    for (const text of ["", "\n", "# corral config\n# plugins: none yet\n"]) {
      const [problem, ...more] = problems(text);
      expect(more).toEqual([]);
      expect(problem).toMatchObject({ file, line: 1, field: "" });
      expect(problem!.message).toMatch(/^the config is empty \(nothing but comments, or nothing at all\): write `\{\}` for all defaults/);
    }
    expect(parseConfig("{}\n", file).plugins).toEqual([]);
    // Where nothing runs yet (the supervisor's start), it is all defaults, as it always was.
    expect(parseConfig("# plugins: none yet\n", file, { empty: "defaults" }).plugins).toEqual([]);
  });

  it("shows the value of a field whenever the message does not quote it, its text in the message or not", () => {
    const [openFiles] = problems('plugins:\n  - name: pp\n    binary: /bin/true\n    apiVersion: "1"\n    limits: { openFiles: 1 }\n');
    expect(formatProblem(openFiles!)).toMatch(/plugins\[0\]\.limits\.openFiles: .*>=16.* \(value: 1\)$/);
    const [unknown] = problems("bogus: 1\n");
    expect(formatProblem(unknown!)).toBe(`${file}:1:1: bogus: unknown field "bogus"`);
  });

  it("refuses a certificateTtl under 2 s: a leaf could be expired when issued", () => {
    for (const ttl of ["0s", "500ms", "1999ms"]) {
      const [problem] = problems(`plugins:\n  - name: pp\n    binary: /bin/true\n    apiVersion: "1"\n    certificateTtl: ${ttl}\n`);
      expect(problem).toMatchObject({ field: "plugins[0].certificateTtl", value: ttl, message: "must be at least 2s" });
    }
  });

  it("fills defaults and resolves paths relative to the file", () => {
    const config = parseConfig(
      "stateDir: ./state\nplugins:\n  - name: greeter\n    binary: ../bin/greeter\n    apiVersion: \"1.0\"\n",
      file,
    );
    expect(config.stateDir).toBe("/etc/corral/state");
    expect(config.runtimeDir).toBe("/run/corral");
    expect(config.admin.socket).toBe("/run/corral/admin.sock");
    const [plugin] = config.plugins;
    expect(plugin?.binary).toBe("/etc/bin/greeter");
    expect(plugin?.limits).toEqual({
      memory: 128 * 1024 ** 2,
      pids: 128,
      cpu: 1,
      workspace: 16 * 1024 ** 2,
      openFiles: 1024,
      fileSize: 64 * 1024 ** 2,
    });
    expect(plugin?.network).toBe("none");
    expect(plugin?.dataPlane).toEqual({ maxMessageSize: 4 * 1024 ** 2, maxConnectionAge: 600_000, maxConnectionAgeGrace: 30_000 });
    expect(plugin?.readOnlyPaths).toEqual([]);
    expect(plugin?.stopTimeout).toBe(5000);
    expect(plugin?.restart.initialBackoff).toBe(500);
    expect(plugin?.output).toEqual({ rate: 200, burst: 1000, maxLineLength: 16 * 1024, maxBytesPerSecond: 4 * 1024 ** 2 });
  });

  it("points at an unknown key that YAML reads as a number on its own line", () => {
    const [p] = problems('plugins:\n  - name: greeter\n    binary: x\n    apiVersion: "1"\n    limits:\n      1: x\n');
    expect(p).toMatchObject({ file, line: 6, column: 7, field: "plugins[0].limits.1", message: 'unknown field "1"' });
  });

  it("names file, line, field and value of a bad value", () => {
    const [p] = problems("plugins:\n  - name: greeter\n    binary: x\n    apiVersion: \"1\"\n    limits:\n      memory: 12XB\n");
    expect(p).toMatchObject({ file, line: 6, field: "plugins[0].limits.memory", value: "12XB" });
    expect(p?.message).toContain('"12XB" is not a size');
  });

  it("rejects unknown fields at the key's line", () => {
    const list = problems("plugins:\n  - name: greeter\n    binary: x\n    apiVersion: \"1\"\n    colour: red\nlogLevel: 3\n");
    expect(list).toEqual(
      expect.arrayContaining([
        expect.objectContaining({ line: 5, field: "plugins[0].colour", message: 'unknown field "colour"' }),
        expect.objectContaining({ line: 6, field: "logLevel", message: 'unknown field "logLevel"' }),
      ]),
    );
  });

  it("rejects wrong types, missing fields, bad names and duplicates, all at once", () => {
    const list = problems(
      [
        "plugins:",
        "  - name: Greeter",
        "    binary: x",
        "    apiVersion: 1",
        "  - name: kv",
        "    apiVersion: \"1\"",
        "  - name: dup",
        "    binary: a",
        "    apiVersion: \"1\"",
        "  - name: dup",
        "    binary: b",
        "    apiVersion: \"1\"",
        "    limits: { pids: 2 }",
      ].join("\n"),
    );
    const byField = Object.fromEntries(list.map((p) => [p.field, p]));
    expect(byField["plugins[0].name"]).toMatchObject({ line: 2, value: "Greeter" });
    expect(byField["plugins[0].apiVersion"]?.message).toContain("expected string");
    expect(byField["plugins[1].binary"]?.message).toContain("is required");
    expect(byField["plugins[3].name"]?.message).toContain('"dup" is already the name of plugins[2]');
    expect(byField["plugins[3].limits.pids"]).toMatchObject({ line: 13, value: "2" });
  });

  it("refuses a cgroupParent named like the supervisor's own leaf on cgroup v2", () => {
    const list = problems(["sandbox:", "  cgroupParent: supervisor", "plugins: []"].join("\n"));
    expect(list).toEqual([
      expect.objectContaining({ field: "sandbox.cgroupParent", line: 2, value: "supervisor", message: 'must not be "supervisor", the supervisor\'s own cgroup on cgroup v2' }),
    ]);
  });

  it("enforces the minimum sizes", () => {
    const [p] = problems('plugins:\n  - name: greeter\n    binary: x\n    apiVersion: "1"\n    limits: { memory: 1KiB }\n');
    expect(p).toMatchObject({ line: 5, field: "plugins[0].limits.memory", value: "1KiB", message: "must be at least 4MiB" });
    expect(problems('plugins:\n  - name: greeter\n    binary: x\n    apiVersion: "1"\n    limits: { workspace: 64KiB, fileSize: 1B }\n')).toHaveLength(2);
    const [age] = problems('plugins:\n  - name: greeter\n    binary: x\n    apiVersion: "1"\n    dataPlane: { maxConnectionAge: 100ms }\n');
    expect(age).toMatchObject({ line: 5, field: "plugins[0].dataPlane.maxConnectionAge", value: "100ms", message: "must be at least 1s" });
    const [pace] = problems('plugins:\n  - name: greeter\n    binary: x\n    apiVersion: "1"\n    output: { maxBytesPerSecond: 64KiB }\n');
    expect(pace).toMatchObject({ line: 5, field: "plugins[0].output.maxBytesPerSecond", value: "64KiB", message: "must be at least 256KiB" });
  });

  it("refuses a quarantine window that counts no crash, and takes an initial backoff above the default cap", () => {
    const list = problems('plugins:\n  - name: greeter\n    binary: x\n    apiVersion: "1"\n    restart: { initialBackoff: 1s, maxBackoff: 0s, quarantineWindow: 0s }\n');
    expect(list).toEqual([expect.objectContaining({ line: 5, field: "plugins[0].restart.quarantineWindow", value: "0s", message: "must be at least 1s" })]);
    const config = parseConfig('plugins:\n  - name: greeter\n    binary: /bin/true\n    apiVersion: "1"\n    restart: { initialBackoff: 1m }\n', "/etc/corral/corral.yaml", { hostPaths: false });
    expect(config.plugins[0]!.restart.initialBackoff).toBe(60_000);
  });

  it("refuses two listeners on one port: plugins' TCP addresses and the metrics endpoint, by name or on every host too", () => {
    const plugin = (name: string, tcp: string) => `  - name: ${name}\n    binary: x\n    apiVersion: "1"\n    dataPlane: { tcp: "${tcp}" }\n`;
    const list = problems(
      `metrics: { listen: "127.0.0.1:9464" }\nplugins:\n${plugin("aa", "127.0.0.1:7443")}${plugin("bb", "localhost:7443")}${plugin("cc", "0.0.0.0:9464")}${plugin("dd", "127.0.0.2:7444")}${plugin("ee", "127.0.0.1:0")}${plugin("ff", "127.0.0.1:0")}`,
    );
    expect(list.map((p) => [p.field, p.value, p.message])).toEqual([
      ["plugins[1].dataPlane.tcp", "localhost:7443", "takes the port of plugins[0].dataPlane.tcp (127.0.0.1:7443)"],
      ["plugins[2].dataPlane.tcp", "0.0.0.0:9464", "takes the port of metrics.listen (127.0.0.1:9464)"],
    ]);
  });

  it("refuses a key given twice in one mapping, at its line", () => {
    const list = problems('stateDir: /a\nplugins:\n  - name: greeter\n    binary: x\n    apiVersion: "1"\n    binary: y\nstateDir: /b\n');
    expect(list.map((p) => [p.line, p.message])).toEqual([
      [6, "YAML: Map keys must be unique"],
      [7, "YAML: Map keys must be unique"],
    ]);
  });

  it("refuses a tag it does not know, which would otherwise stand for its text, at its line", () => {
    const list = problems('plugins:\n  - name: greeter\n    binary: x\n    apiVersion: "1"\n    env: { TOKEN: !env SECRET_TOKEN }\n    args: [--token, !vault secret/db]\n');
    expect(list.map((p) => [p.line, p.message])).toEqual([
      [5, "YAML: Unresolved tag: !env"],
      [6, "YAML: Unresolved tag: !vault"],
    ]);
    // YAML's own tags are taken.
    const config = parseConfig('plugins:\n  - name: greeter\n    binary: /bin/true\n    apiVersion: !!str 1.0\n', "/etc/corral/corral.yaml", { hostPaths: false });
    expect(config.plugins[0]!.apiVersion).toBe("1.0");
  });

  it("takes an anchor used by hundreds of plugins, and refuses aliases that expand exponentially, naming the file", () => {
    let shared = "plugins:\n";
    for (let i = 0; i < 500; i++) shared += `  - { name: p${i}, binary: /bin/true, apiVersion: "1", limits: ${i === 0 ? "&std { memory: 64MiB, pids: 64 }" : "*std"} }\n`;
    const config = parseConfig(shared, "/etc/corral/corral.yaml", { hostPaths: false });
    expect(config.plugins).toHaveLength(500);
    expect(config.plugins[499]!.limits.pids).toBe(64);
    let laughs = "a: &a [x, x, x, x, x, x, x, x, x, x]\n";
    for (let i = 0; i < 8; i++) laughs += `${String.fromCharCode(98 + i)}: &${String.fromCharCode(98 + i)} [${Array(10).fill(`*${String.fromCharCode(97 + i)}`).join(", ")}]\n`;
    expect(problems(laughs)).toEqual([expect.objectContaining({ line: 1, column: 1, message: "YAML: aliases expand to more than 10000 nodes" })]);
  });

  it("points a missing field at the entry it belongs in, and takes merge keys", () => {
    const [missing] = problems('plugins:\n  - name: greeter\n    binary: x\n    apiVersion: "1"\n  - name: other\n    apiVersion: "1"\n');
    expect(missing).toMatchObject({ line: 5, field: "plugins[1].binary", message: "is required (string)" });
    const merged = parseConfig(
      'plugins:\n  - name: aa\n    binary: /bin/true\n    apiVersion: "1"\n    limits: &std { memory: 64MiB, pids: 64 }\n  - name: bb\n    binary: /bin/true\n    apiVersion: "1"\n    limits:\n      <<: *std\n      pids: 32\n',
      "/etc/corral/corral.yaml",
      { hostPaths: false },
    );
    expect(merged.plugins.map((p) => [p.limits.memory, p.limits.pids])).toEqual([
      [64 * 1024 * 1024, 64],
      [64 * 1024 * 1024, 32],
    ]);
  });

  it("refuses a key repeated through an alias or in another spelling, as the loaded object would merge them", () => {
    const plugin = 'plugins:\n  - name: greeter\n    binary: x\n    apiVersion: "1"\n';
    const alias = problems(`${plugin}    env:\n      &k GREETING: a\n      *k : b\n`);
    expect(alias.map((p) => [p.line, p.message])).toEqual([[7, "YAML: Map keys must be unique"]]);
    const spelled = problems(`${plugin}    env:\n      1: a\n      "1": b\n`);
    expect(spelled.map((p) => [p.line, p.message])).toEqual([[7, "YAML: Map keys must be unique"]]);
    const collections = problems(`${plugin}    env:\n      ? [a]\n      : x\n      ? [a]\n      : y\n`);
    expect(collections.map((p) => [p.line, p.message])).toEqual([[8, "YAML: Map keys must be unique"]]);
  });

  it("names a bad environment variable name, not only its value", () => {
    const list = problems('plugins:\n  - name: greeter\n    binary: x\n    apiVersion: "1"\n    env: { "1BAD": x, GOOD: y }\n');
    expect(list.map((p) => [p.line, p.field, p.message])).toEqual([[5, "plugins[0].env.1BAD", '"1BAD" is not a valid environment variable name']]);
  });

  it("refuses a restart-loop period under 1s, which would keep the alert from ever being raised", () => {
    const list = problems('plugins:\n  - name: greeter\n    binary: x\n    apiVersion: "1"\n    breakers: { warningSigns: { restartLoop: { period: 0s } } }\n');
    expect(list.map((p) => [p.field, p.value, p.message])).toEqual([["plugins[0].breakers.warningSigns.restartLoop.period", "0s", "must be at least 1s"]]);
  });

  it("refuses durations of 0 that would make a plugin unstartable or spin the supervisor", () => {
    const list = problems('plugins:\n  - name: greeter\n    binary: x\n    apiVersion: "1"\n    startTimeout: 0s\n    sampleInterval: 0s\n    restart: { initialBackoff: 0s }\n');
    const byField = Object.fromEntries(list.map((p) => [p.field, p]));
    expect(byField["plugins[0].startTimeout"]).toMatchObject({ line: 5, value: "0s", message: "must be at least 100ms" });
    expect(byField["plugins[0].sampleInterval"]).toMatchObject({ line: 6, value: "0s", message: "must be at least 100ms" });
    expect(byField["plugins[0].restart.initialBackoff"]).toMatchObject({ line: 7, value: "0s", message: "must be at least 1ms" });
    expect(list).toHaveLength(3);
  });

  it("refuses a CPU allowance under the kernel's least quota, and sizes nothing can hold", () => {
    const list = problems('plugins:\n  - name: greeter\n    binary: x\n    apiVersion: "1"\n    limits: { cpu: 0.001, memory: 10000000GiB }\n    dataPlane: { maxMessageSize: 3GiB }\n    output: { maxLineLength: 512MiB }\n');
    const byField = Object.fromEntries(list.map((p) => [p.field, p]));
    expect(byField["plugins[0].limits.cpu"]).toMatchObject({ line: 5, value: "0.001", message: expect.stringMatching(/^must be at least 0\.01/) });
    expect(byField["plugins[0].limits.memory"]).toMatchObject({ line: 5, message: '"10000000GiB" is too large a size' });
    expect(byField["plugins[0].dataPlane.maxMessageSize"]).toMatchObject({ line: 6, value: "3GiB", message: expect.stringMatching(/^must be at most 1GiB/) });
    // A line is held whole until it ends: 512MiB was past what a string may hold.
    expect(byField["plugins[0].output.maxLineLength"]).toMatchObject({ line: 7, value: "512MiB", message: expect.stringMatching(/^must be at most 1MiB/) });
    expect(list).toHaveLength(4);
  });

  it("gives every plugin the warning signs' defaults, and takes its own", () => {
    const [plain, own] = parseConfig(
      'plugins:\n  - name: aa\n    binary: x\n    apiVersion: "1"\n  - name: bb\n    binary: x\n    apiVersion: "1"\n    breakers: { warningSigns: { restartLoop: { restarts: 5, period: 1m } } }\n',
      file,
    ).plugins;
    expect(warningSignsConfig(plain!)).toEqual(breakerDefaults.warningSigns);
    expect(warningSignsConfig(own!).restartLoop).toEqual({ restarts: 5, period: 60_000 });
    expect(problems('plugins:\n  - name: aa\n    binary: x\n    apiVersion: "1"\n    breakers: { warningSigns: { fdGrowth: { samples: 1 } } }\n')[0]).toMatchObject({
      field: "plugins[0].breakers.warningSigns.fdGrowth.samples",
      value: "1",
    });
  });

  it("refuses CPU breaker settings the breaker cannot work with, naming the field", () => {
    // The breaker is made as sampling begins, in a timer: there, these
    // threw and ended the supervisor, after `corral validate` said valid.
    const list = problems('plugins:\n  - name: greeter\n    binary: x\n    apiVersion: "1"\n    breakers:\n      cpu:\n        restartAfter: 5\n        quarantineAfter: 5\n        window: 0s\n');
    expect(list).toEqual([
      expect.objectContaining({ line: 9, field: "plugins[0].breakers.cpu.window", value: "0s", message: "must be longer than 0" }),
      expect.objectContaining({ line: 8, field: "plugins[0].breakers.cpu.quarantineAfter", value: "5", message: "must be above restartAfter (5)" }),
    ]);
  });

  it("refuses durations a timer cannot wait, but not certificate lifetimes", () => {
    // A Node timer of more than 2^31-1 ms fires at once: a 25d startTimeout
    // failed every start at once.
    const list = problems('plugins:\n  - name: greeter\n    binary: x\n    apiVersion: "1"\n    startTimeout: 25d\n    restart: { maxBackoff: 600h }\n');
    expect(list).toEqual([
      expect.objectContaining({ line: 5, field: "plugins[0].startTimeout", value: "25d", message: "must be at most 24d" }),
      expect.objectContaining({ line: 6, field: "plugins[0].restart.maxBackoff", value: "600h", message: "must be at most 24d" }),
    ]);
    const config = parseConfig('plugins:\n  - name: greeter\n    binary: x\n    apiVersion: "1"\n    startTimeout: 24d\n    certificateTtl: 90d\n', file);
    expect(config.plugins[0]?.startTimeout).toBe(24 * 86_400_000);
    expect(config.plugins[0]?.certificateTtl).toBe(90 * 86_400_000);
  });

  it("refuses a runtimeDir or plugin name that makes a socket path too long for a Unix socket", () => {
    // 107 bytes is the most sun_path holds: longer, and listen() fails with a bare EINVAL.
    const runtimeDir = `/run/${"r".repeat(60)}`;
    const list = problems(`runtimeDir: ${runtimeDir}\nplugins:\n  - name: short\n    binary: x\n    apiVersion: "1"\n  - name: a-plugin-name-of-thirty-two-chrs\n    binary: x\n    apiVersion: "1"\n`);
    expect(list).toEqual([
      expect.objectContaining({
        line: 6,
        field: "plugins[1].name",
        value: "a-plugin-name-of-thirty-two-chrs",
        message: expect.stringMatching(/^its instances' sockets \(\/run\/r+\/instances\/a-plugin-name-of-thirty-two-chrs-[0-9a-f]{6}\/plugin\.sock\) would be 127 bytes long, over the 107 a Unix socket's path can have: shorten runtimeDir or the name$/),
      }),
    ]);
    const admin = problems(`runtimeDir: /run/${"r".repeat(100)}\n`);
    expect(admin).toEqual([expect.objectContaining({ line: 1, field: "runtimeDir", message: expect.stringContaining("the admin socket /run/rrr") })]);
    const explicit = problems(`admin:\n  socket: /run/${"s".repeat(100)}.sock\n`);
    expect(explicit).toEqual([expect.objectContaining({ line: 2, field: "admin.socket" })]);
    // At the limit is fine: 107 bytes.
    const fits = `/run/${"r".repeat(107 - "/run/".length - "/instances/ab-123456/plugin.sock".length)}`;
    expect(parseConfig(`runtimeDir: ${fits}\nplugins:\n  - name: ab\n    binary: x\n    apiVersion: "1"\n`, file).runtimeDir).toBe(fits);
  });

  it("refuses a read-only grant of a path that does not exist, and a bad network", () => {
    const list = problems(
      [
        "plugins:",
        "  - name: greeter",
        "    binary: x",
        '    apiVersion: "1"',
        "    network: internet",
        "    readOnlyPaths: [/etc/hostname]",
        "  - name: kv",
        "    binary: x",
        '    apiVersion: "1"',
        "    readOnlyPaths:",
        "      - /lib",
        "      - /no/such/dir",
      ].join("\n"),
    );
    expect(list).toHaveLength(1);
    expect(list[0]).toMatchObject({ line: 5, field: "plugins[0].network", value: "internet" });
    const grants = problems(
      ["plugins:", "  - name: kv", "    binary: x", '    apiVersion: "1"', "    readOnlyPaths:", "      - /lib", "      - /no/such/dir"].join("\n"),
    );
    expect(grants).toEqual([
      expect.objectContaining({ line: 7, field: "plugins[0].readOnlyPaths[1]", value: "/no/such/dir", message: "/no/such/dir does not exist on this host" }),
    ]);
    expect(problems("plugins:\n  - name: kv\n    binary: x\n    apiVersion: \"1\"\n    readOnlyPaths: [lib/../x]\n")[0]?.message).toContain(
      "must be an absolute path",
    );
    // The launcher's own rules: no grant over the sandbox's mounts, nor one inside another.
    const rules = problems(["plugins:", "  - name: kv", "    binary: x", '    apiVersion: "1"', "    readOnlyPaths: [/etc/ssl, /etc/ssl/certs, /tmp]"].join("\n"));
    expect(rules).toEqual([
      expect.objectContaining({ field: "plugins[0].readOnlyPaths[1]", value: "/etc/ssl/certs", message: "/etc/ssl/certs overlaps /etc/ssl, granted before it: one grant holds the other" }),
      expect.objectContaining({ field: "plugins[0].readOnlyPaths[2]", value: "/tmp", message: "/tmp overlaps the sandbox's /tmp" }),
    ]);
    // Nor over Corral's own directories: read-only does not stop a connect(2) to the sockets there.
    const corral = problems(
      ["runtimeDir: /run/corral", "stateDir: /var/lib/corral", "plugins:", "  - name: kv", "    binary: x", '    apiVersion: "1"', "    readOnlyPaths: [/run, /var/lib/corral/ca]"].join("\n"),
    );
    expect(corral).toEqual([
      expect.objectContaining({ field: "plugins[0].readOnlyPaths[0]", value: "/run", message: expect.stringMatching(/^\/run overlaps runtimeDir \/run\/corral, where every plugin's sockets and the admin socket are: a read-only grant does not stop a connect\(2\)/) }),
      expect.objectContaining({ field: "plugins[0].readOnlyPaths[1]", value: "/var/lib/corral/ca", message: "/var/lib/corral/ca overlaps stateDir /var/lib/corral, Corral's CA, releases and diagnostics" }),
    ]);
  });

  it("refuses a grant of Corral's directories through a symlink, as the host resolves it", () => {
    const dir = mkdtempSync("/var/tmp/corral-grant-link-"); // not below /tmp, the sandbox's own
    try {
      mkdirSync(path.join(dir, "run"));
      symlinkSync(path.join(dir, "run"), path.join(dir, "var-run"));
      const found = problems(["runtimeDir: " + path.join(dir, "run", "corral"), "plugins:", "  - name: kv", "    binary: x", '    apiVersion: "1"', `    readOnlyPaths: [${path.join(dir, "var-run")}]`].join("\n"));
      expect(found).toEqual([expect.objectContaining({ field: "plugins[0].readOnlyPaths[0]", message: expect.stringContaining(`overlaps runtimeDir ${path.join(dir, "run", "corral")}`) })]);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it("refuses one directory for runtimeDir and stateDir, also through a symlink, and either within what the other keeps", () => {
    expect(problems("runtimeDir: /var/lib/corral\nstateDir: /var/lib/corral\n")).toEqual([
      expect.objectContaining({ field: "runtimeDir", value: "/var/lib/corral", message: expect.stringMatching(/^runtimeDir \/var\/lib\/corral is stateDir too: they must be two directories/) }),
    ]);
    expect(problems("runtimeDir: /run/corral\nstateDir: /run/corral/instances/state\n")).toEqual([
      expect.objectContaining({ field: "runtimeDir", message: "stateDir /run/corral/instances/state lies within runtimeDir's instances/, which the supervisor sweeps: put it elsewhere" }),
    ]);
    expect(problems("runtimeDir: /var/lib/corral/plugins/run\nstateDir: /var/lib/corral\n")).toEqual([
      expect.objectContaining({ field: "runtimeDir", message: "runtimeDir /var/lib/corral/plugins/run lies within stateDir's plugins/, which the supervisor prunes: put it elsewhere" }),
    ]);
    // Beside each other, or one holding the other elsewhere, is fine (examples/corral.yaml: ../.corral/{state,run}).
    expect(() => parseConfig("runtimeDir: /srv/corral/run\nstateDir: /srv/corral\n", file)).not.toThrow();
    const dir = mkdtempSync("/var/tmp/corral-dirs-link-");
    try {
      mkdirSync(path.join(dir, "state"));
      symlinkSync(path.join(dir, "state"), path.join(dir, "run"));
      expect(problems(`runtimeDir: ${path.join(dir, "run")}\nstateDir: ${path.join(dir, "state")}\n`)).toEqual([
        expect.objectContaining({ field: "runtimeDir", message: expect.stringContaining(`runtimeDir ${path.join(dir, "state")} is stateDir too`) }),
      ]);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it("names the grants that pass the host's IPC endpoints through, to be warned of", () => {
    expect(ipcGrants(["/usr/lib", "/run/systemd/resolve", "/var/run", "/dev/shm/x", "/etc/ssl"])).toEqual(["/run/systemd/resolve", "/var/run", "/dev/shm/x"]);
    const warned: string[] = [];
    warnOfIpcGrants({ name: "kv", readOnlyPaths: ["/lib", "/run/dbus"] }, { warn: (_o, msg) => warned.push(msg) });
    warnOfIpcGrants({ name: "kv", readOnlyPaths: ["/lib"] }, { warn: (_o, msg) => warned.push(msg) });
    expect(warned).toEqual([expect.stringMatching(/^readOnlyPaths \/run\/dbus are, hold or lie in a directory of the host's IPC endpoints/)]);
  });

  it("refuses an admin.group or dataPlane.group this host does not have, as serve would at start", () => {
    expect(problems("admin:\n  group: no-such-group-here\ndataPlane:\n  group: nor-this-one\n")).toEqual([
      expect.objectContaining({ line: 2, field: "admin.group", value: "no-such-group-here", message: 'no group named "no-such-group-here" in /etc/group' }),
      expect.objectContaining({ line: 4, field: "dataPlane.group", value: "nor-this-one", message: 'no group named "nor-this-one" in /etc/group' }),
    ]);
    expect(parseConfig("admin:\n  group: root\n", file).admin.group).toBe("root");
    expect(parseConfig("dataPlane:\n  group: 2051000\n", file).dataPlane.group).toBe(2051000);
    expect(parseConfig("{}", file).dataPlane.group).toBeUndefined();
  });

  it("refuses a gid chown cannot give: past 32 bits, or 4294967295, which it takes as 'leave the group as it is'", () => {
    expect(problems("admin:\n  group: 4294967296\ndataPlane:\n  group: 4294967295\n")).toEqual([
      expect.objectContaining({ line: 2, field: "admin.group", value: "4294967296", message: expect.stringMatching(/^must be at most 4294967294/) }),
      expect.objectContaining({ line: 4, field: "dataPlane.group", value: "4294967295", message: expect.stringMatching(/^must be at most 4294967294/) }),
    ]);
    expect(parseConfig("dataPlane:\n  group: 4294967294\n", file).dataPlane.group).toBe(4294967294);
  });

  it("reports YAML syntax errors with their line", () => {
    const [p] = problems("plugins:\n  - name: a\n   binary: [\n");
    expect(p?.line).toBeGreaterThanOrEqual(2);
    expect(p?.message).toMatch(/^YAML: /);
  });

  it("refuses a trust domain with an empty label, which Go's x509 would refuse in every certificate", () => {
    for (const td of ["corral..local", ".corral", "corral.local.", "-corral.local"]) {
      expect(problems(`trustDomain: "${td}"\n`), td).toEqual([expect.objectContaining({ field: "trustDomain", value: td, message: expect.stringMatching(/^must be a DNS-like name of dot-separated labels/) })]);
    }
    expect(parseConfig("trustDomain: a-1.corral.local\n", file).trustDomain).toBe("a-1.corral.local");
  });

  it("formats every problem as file:line:col: field: message", () => {
    try {
      parseConfig("trustDomain: NOT_DNS\n", file);
      expect.unreachable();
    } catch (err) {
      expect((err as Error).message).toMatch(/^\/etc\/corral\/corral\.yaml:1:14: trustDomain: must be a DNS-like name/);
      expect((err as Error).message).toContain("NOT_DNS");
    }
  });
});
