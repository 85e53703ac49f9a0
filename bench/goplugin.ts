// Corral against hashicorp/go-plugin, the usual choice for out-of-process Go
// plugins, in one run on one machine: start to first call, and unary call
// latency and throughput once connected. Both sides serve the same code,
// the echo test plugin's Echo/Unary (bench/goplugin/echoserver, on the API
// of test/plugins/echo/api): through go-shim as a Corral plugin under a real
// supervisor (bench/goplugin/shimecho), and through go-plugin's gRPC
// protocol (bench/goplugin/plugin, with its Go host bench/goplugin/host).
// bench/goplugin is a Go module of its own, so go-plugin is a dependency of
// this benchmark only, and of its go-plugin side only: the Corral plugin
// does not link it, as a Corral plugin would not. (Not the echo test plugin
// itself: it hashes its 17 MB executable at start, ~15 ms that would pad
// both starts alike.)
//
// Start to first call. go-plugin: plugin.NewClient, Client() (which launches
// the plugin process and waits for its handshake), Dispense and one Unary,
// in the Go host. Corral: the equivalent request of a host application is
// to ask the supervisor for one instance of a stopped plugin: the admin
// Start RPC, from a Go admin client (what corralctl sends, without Node's
// start-up in the way), which returns once the instance is ready (its
// certificate issued, its sandbox launched, go-shim's handshake and health
// seen over mTLS, the stable address pointed at it), then one Unary on a
// new mTLS connection to the stable address. Both launch one plugin process
// and end at the reply of its first call; Corral's also counts the admin
// call and a TLS handshake that go-plugin (no TLS by default) does not
// have; those two are also measured apart, on the running instance after
// the same pause, for start_floor_vs_goplugin (see there). Starts are
// spaced 500 ms apart, as in life, which also lets the
// supervisor's launcher pool have its warm spare ready, as it would for a
// start on a quiet host. go-plugin's AutoMTLS (a certificate made per
// client and per plugin process) is measured beside its default, for
// reference.
//
// Calls. Echo/Unary with 64 bytes each way from 1 and from 64 concurrent
// callers on one connection: to go-plugin's plugin on go-plugin's
// connection (the Go host), and to Corral's stable address from a Go client
// (bench/loadgen, the same measuring loop) and from a Node client (the
// client library's connect(), @grpc/grpc-js, in this process). The Corral
// plugin is allowed every core of the machine (limits.cpu), as go-plugin's
// unconfined plugin is, and its CPU breaker's window is lengthened so that
// the sustained load does not stop it. Cases run in rounds, in another order
// each round, so drift on the (shared) machine hits all alike.
import { loadPackageDefinition, Metadata, type ServiceError } from "@grpc/grpc-js";
import { loadSync } from "@grpc/proto-loader";
import { execa } from "execa";
import { readFile, rm } from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import { performance } from "node:perf_hooks";
import { connect, type ServiceClientConstructor } from "../client/index.ts";
import type { EchoGrpcClient } from "../test/helpers/echo.ts";
import type { LogLine } from "../test/helpers/logs.ts";
import { TestSupervisor } from "../test/helpers/supervisor.ts";
import { benchTempDir } from "./leftovers.ts";
import { clientCredentials, machine, ratio, repoRoot, summarize, type BenchResult, type Metric } from "./lib.ts";

/** Start rounds; each times STARTS_PER_ROUND starts of every kind. */
const START_ROUNDS = Number(process.env.BENCH_GOPLUGIN_START_ROUNDS ?? 6);
const STARTS_PER_ROUND = 5;
const START_PAUSE = "500ms";
const ROUNDS = Number(process.env.BENCH_GOPLUGIN_ROUNDS ?? 4);
/** Measured per case and round, after a warm-up on a connection of its own. */
const SECONDS = Number(process.env.BENCH_GOPLUGIN_SECONDS ?? 1.5);
const WARMUP_MS = 500;
const CALLERS = [1, 64];
const PAYLOAD = 64;
const TRUST_DOMAIN = "test.corral.local";

const goDir = path.join(repoRoot, "bench/goplugin");
const hostBinary = path.join(repoRoot, "build/bench/goplugin-host");
const goPluginBinary = path.join(repoRoot, "build/bench/goplugin-echo");
const loadgenBinary = path.join(repoRoot, "build/bench/loadgen");
const shimEchoBinary = path.join(repoRoot, "build/bench/goplugin-shimecho");

const START_KINDS = ["goplugin", "goplugin_automtls", "corral"] as const;
const CALL_CASES = ["goplugin", "goplugin_automtls", "corral_go", "corral_node"] as const;
type StartKind = (typeof START_KINDS)[number];
type CallCase = (typeof CALL_CASES)[number];

interface StartSample {
  totalMs: number;
  launchMs: number;
  firstCallMs: number;
  /** corral: an admin call (Version) after the same pause, once the instance runs. */
  adminRpcMs?: number;
  /** corral: a new mTLS connection to the running instance and one call, after the same pause. */
  warmFirstCallMs?: number;
}

/** What bench/loadgen and the Go host's goplugin-load print (the part used here). */
interface LoadReport {
  failed: number;
  failures: Record<string, number>;
  throughput: number;
}

interface Runs {
  /** µs, of every call that succeeded. */
  latencies: number[];
  /** calls/s of each round. */
  throughputs: number[];
  failed: number;
  failures: Record<string, number>;
}

const round2 = (v: number) => Math.round(v * 100) / 100;

export async function run(): Promise<BenchResult> {
  const env = { CGO_ENABLED: "0" };
  await execa("go", ["build", "-trimpath", "-o", hostBinary, "./host"], { cwd: goDir, env });
  await execa("go", ["build", "-trimpath", "-o", goPluginBinary, "./plugin"], { cwd: goDir, env });
  await execa("go", ["build", "-trimpath", "-o", shimEchoBinary, "./shimecho"], { cwd: goDir, env });
  await execa("go", ["build", "-trimpath", "-o", loadgenBinary, "./bench/loadgen"], { cwd: repoRoot, env });

  const work = await benchTempDir("goplugin");
  let supervisor: TestSupervisor | undefined;
  try {
    supervisor = await TestSupervisor.start({
      plugins: [
        {
          name: "echo",
          binary: shimEchoBinary,
          apiVersion: "1.0",
          limits: { cpu: os.cpus().length },
          breakers: { cpu: { window: "1h" } },
        },
      ],
      config: { trustDomain: TRUST_DOMAIN },
    });
    const sup = supervisor;
    const { files: pems, pems: clientPems } = await clientCredentials(sup.stateDir, TRUST_DOMAIN, "echo", work);
    const address = (await sup.plugin("echo")).address;
    // The CRL too, as a host application's go-shim/client checks it.
    const tls = ["-ca", pems.ca, "-cert", pems.cert, "-key", pems.key, "-crl", path.join(sup.runtimeDir, "crl.pem"), "-plugin", "echo"];

    // Start to first call.
    const startArgs: Record<StartKind, string[]> = {
      goplugin: ["-mode", "goplugin-start", "-plugin-binary", goPluginBinary],
      goplugin_automtls: ["-mode", "goplugin-start", "-plugin-binary", goPluginBinary, "-automtls"],
      corral: [
        "-mode", "corral-start", "-admin-socket", sup.adminSocket, "-admin-credentials", path.join(sup.runtimeDir, "admin-credentials"),
        "-target", address, ...tls,
      ],
    };
    const starts = async (kind: StartKind, count: number) => {
      const r = await execa(hostBinary, [...startArgs[kind], "-starts", String(count), "-pause", START_PAUSE]);
      return (JSON.parse(r.stdout) as { samples: StartSample[] }).samples;
    };
    for (const kind of START_KINDS) await starts(kind, 2); // warm-up: page cache, the supervisor's JIT
    const startSamples: Record<StartKind, StartSample[]> = { goplugin: [], goplugin_automtls: [], corral: [] };
    const firstLog = sup.logs.length;
    for (let round = 0; round < START_ROUNDS; round++) {
      for (let i = 0; i < START_KINDS.length; i++) {
        const kind = START_KINDS[(i + round) % START_KINDS.length]!;
        startSamples[kind].push(...(await starts(kind, STARTS_PER_ROUND)));
      }
    }

    const phases = corralPhases(sup.logs.slice(firstLog));

    // Calls.
    const runs: Record<string, Runs> = {};
    const add = (into: string, latencies: number[], report: LoadReport) => {
      const acc = (runs[into] ??= { latencies: [], throughputs: [], failed: 0, failures: {} });
      for (const l of latencies) acc.latencies.push(l);
      acc.throughputs.push(report.throughput);
      acc.failed += report.failed;
      for (const [what, count] of Object.entries(report.failures)) acc.failures[what] = (acc.failures[what] ?? 0) + count;
    };
    let n = 0;
    const goLoad = async (c: Exclude<CallCase, "corral_node">, callers: number) => {
      const file = path.join(work, `latencies-${n++}`);
      const common = ["-concurrency", String(callers), "-duration", `${SECONDS}s`, "-warmup", `${WARMUP_MS}ms`, "-payload", String(PAYLOAD), "-latencies", file];
      const r =
        c === "corral_go"
          ? await execa(loadgenBinary, ["-target", address, ...tls, ...common])
          : await execa(hostBinary, ["-mode", "goplugin-load", "-plugin-binary", goPluginBinary, ...(c === "goplugin_automtls" ? ["-automtls"] : []), ...common]);
      const latencies = (await readFile(file, "utf8")).split("\n").filter(Boolean).map(Number);
      await rm(file);
      add(`${c}_at_${callers}`, latencies, JSON.parse(r.stdout) as LoadReport);
    };
    const Echo = echoConstructor();
    const nodeLoad = async (callers: number) => {
      const client = connect("echo", Echo, { credentials: clientPems, address });
      try {
        const { latencies, report } = await nodeCalls(client, callers);
        add(`corral_node_at_${callers}`, latencies, report);
      } finally {
        client.close();
      }
    };
    for (const callers of CALLERS) {
      for (let round = 0; round < ROUNDS; round++) {
        for (let i = 0; i < CALL_CASES.length; i++) {
          const c = CALL_CASES[(i + round) % CALL_CASES.length]!;
          if (c === "corral_node") await nodeLoad(callers);
          else await goLoad(c, callers);
        }
      }
    }

    const metrics: Record<string, Metric> = {};
    for (const kind of START_KINDS) {
      const s = startSamples[kind];
      metrics[`start_to_first_call_${kind}`] = summarize(s.map((x) => x.totalMs), "ms");
      // corral: the admin Start RPC (instance ready, stable address switched); go-plugin: NewClient + Client().
      metrics[`start_launch_${kind}`] = summarize(s.map((x) => x.launchMs), "ms");
      // corral: a new mTLS connection and the call; go-plugin: Dispense and the call (opening its connection).
      metrics[`start_first_call_${kind}`] = summarize(s.map((x) => x.firstCallMs), "ms");
    }
    // The two parts of Corral's start that launch nothing, measured apart.
    const measured = (field: "adminRpcMs" | "warmFirstCallMs") =>
      startSamples.corral.map((x) => {
        if (x[field] === undefined) throw new Error(`the Go host's corral-start sample has no ${field}`);
        return x[field];
      });
    metrics.start_admin_rpc_corral = summarize(measured("adminRpcMs"), "ms");
    metrics.start_first_call_warm_corral = summarize(measured("warmFirstCallMs"), "ms");
    // Where Corral's Start RPC goes, from the supervisor's log (ms resolution).
    metrics.corral_phase_launch = summarize(phases.launch, "ms");
    metrics.corral_phase_handshake = summarize(phases.handshake, "ms");
    metrics.corral_phase_ready = summarize(phases.ready, "ms");
    for (const [name, r] of Object.entries(runs)) {
      metrics[`latency_${name}`] = summarize(r.latencies, "µs");
      metrics[`throughput_${name}`] = summarize(r.throughputs, "calls/s");
    }
    metrics.failed_calls = summarize([Object.values(runs).reduce((sum, r) => sum + r.failed, 0)], "calls");

    const m = (name: string) => metrics[`latency_${name}`]!;
    const t = (name: string) => metrics[`throughput_${name}`]!;
    const p99 = (a: string, b: string) => round2(m(a).p99! / m(b).p99!);
    const result: BenchResult = {
      machine: machine(),
      metrics,
      ratios: {
        start_vs_goplugin: ratio(metrics.start_to_first_call_corral!, metrics.start_to_first_call_goplugin!),
        start_vs_goplugin_automtls: ratio(metrics.start_to_first_call_corral!, metrics.start_to_first_call_goplugin_automtls!),
        // What a Corral start would take if sandboxing it and checking it
        // ready cost nothing and its process came up as fast as go-plugin's
        // launch: the admin call, that launch, and the host's mTLS
        // connection and call. (go-plugin's launch includes a plain
        // connection to the plugin, counted twice here; the sandbox, the
        // certificate, the supervisor's own mTLS handshake with the plugin
        // and the plugin's cold first TLS handshake are not counted.)
        start_floor_vs_goplugin: round2(
          (metrics.start_admin_rpc_corral.median + metrics.start_launch_goplugin!.median + metrics.start_first_call_warm_corral.median) /
            metrics.start_to_first_call_goplugin!.median,
        ),
        call_vs_goplugin_p50: ratio(m("corral_go_at_1"), m("goplugin_at_1")),
        call_vs_goplugin_p99: p99("corral_go_at_1", "goplugin_at_1"),
        call_vs_goplugin_p50_at_64: ratio(m("corral_go_at_64"), m("goplugin_at_64")),
        call_vs_goplugin_p99_at_64: p99("corral_go_at_64", "goplugin_at_64"),
        call_vs_goplugin_throughput_at_64: ratio(t("corral_go_at_64"), t("goplugin_at_64")),
        call_vs_goplugin_automtls_p50: ratio(m("corral_go_at_1"), m("goplugin_automtls_at_1")),
        node_call_vs_goplugin_p50: ratio(m("corral_node_at_1"), m("goplugin_at_1")),
        node_call_vs_goplugin_p99: p99("corral_node_at_1", "goplugin_at_1"),
        node_call_vs_goplugin_p50_at_64: ratio(m("corral_node_at_64"), m("goplugin_at_64")),
        node_call_vs_goplugin_throughput_at_64: ratio(t("corral_node_at_64"), t("goplugin_at_64")),
      },
    };
    printSummary(startSamples, runs, metrics);
    return result;
  } finally {
    await supervisor?.cleanup();
    await rm(work, { recursive: true, force: true });
  }
}

/**
 * The phases of each start in the supervisor's log: "plugin starting" to
 * "plugin process started" (certificate, instance directory, cgroup limits,
 * the warm launcher given its spec and the plugin exec'd: `launch`), to
 * "handshake complete" (the plugin's Go runtime and go-shim up, the
 * supervisor's mTLS control connection, Handshake and Health: `handshake`),
 * to "plugin ready" (the stable address switched: `ready`).
 */
function corralPhases(logs: LogLine[]): { launch: number[]; handshake: number[]; ready: number[] } {
  const lines = logs.filter((l) => l.plugin === "echo");
  const t = (l: LogLine) => Date.parse(l.time);
  const phases = { launch: [] as number[], handshake: [] as number[], ready: [] as number[] };
  lines.forEach((line, i) => {
    if (line.msg !== "plugin starting") return;
    const after = lines.slice(i + 1);
    const next = (msg: string) => after.find((l) => l.msg === msg);
    const [started, handshake, ready] = [next("plugin process started"), next("handshake complete"), next("plugin ready")];
    if (!started || !handshake || !ready) return;
    phases.launch.push(t(started) - t(line));
    phases.handshake.push(t(handshake) - t(started));
    phases.ready.push(t(ready) - t(handshake));
  });
  return phases;
}

/** The Echo client constructor, as @grpc/grpc-js makes it from the echo test plugin's proto. */
function echoConstructor(): ServiceClientConstructor<EchoGrpcClient> {
  const definition = loadSync(path.join(repoRoot, "test/plugins/echo/api/echo.proto"), { longs: Number, defaults: true });
  return (loadPackageDefinition(definition) as unknown as { corral: { test: { echo: { v1: { Echo: ServiceClientConstructor<EchoGrpcClient> } } } } })
    .corral.test.echo.v1.Echo;
}

/**
 * bench/loadgen's loop in Node: `callers` workers on the one channel, each
 * making one Unary after another, WARMUP_MS unmeasured, then SECONDS
 * measured (calls that started in the window count).
 */
async function nodeCalls(client: EchoGrpcClient, callers: number): Promise<{ latencies: number[]; report: LoadReport }> {
  const req = { message: "loadgen", replySize: PAYLOAD, payload: Buffer.alloc(PAYLOAD) };
  const call = () =>
    new Promise<ServiceError | null>((resolve) => {
      client.Unary(req, new Metadata(), { deadline: Date.now() + 10_000 }, (err) => resolve(err));
    });
  const start = performance.now() + WARMUP_MS;
  const end = start + SECONDS * 1000;
  const latencies: number[] = [];
  const report: LoadReport = { failed: 0, failures: {}, throughput: 0 };
  await Promise.all(
    Array.from({ length: callers }, async () => {
      for (;;) {
        const t0 = performance.now();
        if (t0 >= end) return;
        const err = await call();
        const elapsed = performance.now() - t0;
        if (t0 < start) continue;
        if (!err) latencies.push(Math.round(elapsed * 10_000) / 10);
        else {
          report.failed++;
          const key = `${err.code}: ${err.details}`;
          report.failures[key] = (report.failures[key] ?? 0) + 1;
        }
      }
    }),
  );
  report.throughput = Math.round((latencies.length / SECONDS) * 10) / 10;
  return { latencies, report };
}

function printSummary(starts: Record<StartKind, StartSample[]>, runs: Record<string, Runs>, metrics: Record<string, Metric>): void {
  const table = (header: string[], rows: string[][]) => {
    const widths = header.map((h, i) => Math.max(h.length, ...rows.map((r) => r[i]!.length)));
    const line = (cells: string[]) => cells.map((c, i) => (i === 0 ? c.padEnd(widths[i]!) : c.padStart(widths[i]!))).join("  ");
    console.log([line(header), ...rows.map(line)].join("\n"));
  };
  console.log(`\ngoplugin: start to first call, ${START_ROUNDS * STARTS_PER_ROUND} starts each (medians; launch = go-plugin NewClient+Client(), Corral admin Start RPC)`);
  table(
    ["kind", "total ms", "p95 ms", "launch ms", "first call ms"],
    Object.keys(starts).map((k) => [
      k,
      `${metrics[`start_to_first_call_${k}`]!.median}`,
      `${metrics[`start_to_first_call_${k}`]!.p95}`,
      `${metrics[`start_launch_${k}`]!.median}`,
      `${metrics[`start_first_call_${k}`]!.median}`,
    ]),
  );
  console.log(
    `Corral's start without a launch (medians, on the running instance): admin call ${metrics.start_admin_rpc_corral!.median} ms, ` +
      `new mTLS connection and call ${metrics.start_first_call_warm_corral!.median} ms`,
  );
  console.log(
    `Corral's Start RPC, from the supervisor's log (medians): launch ${metrics.corral_phase_launch!.median} ms, ` +
      `to handshake complete ${metrics.corral_phase_handshake!.median} ms, to ready ${metrics.corral_phase_ready!.median} ms`,
  );
  console.log(`\ngoplugin: Echo/Unary, ${ROUNDS} rounds of ${SECONDS} s per case (calls/s: median of rounds)`);
  table(
    ["case", "callers", "p50 µs", "p99 µs", "max µs", "calls/s", "failed"],
    Object.keys(runs).map((name) => {
      const [c, callers] = name.split("_at_") as [string, string];
      const l = metrics[`latency_${name}`]!;
      return [c, callers, `${l.median}`, `${l.p99}`, `${l.max}`, `${metrics[`throughput_${name}`]!.median}`, `${runs[name]!.failed}`];
    }),
  );
  for (const [name, r] of Object.entries(runs)) {
    for (const [what, count] of Object.entries(r.failures)) console.log(`  ${name}: ${count} × ${what}`);
  }
}
