// The data plane's cost (DESIGN.md §8): unary calls to the echo test plugin
// over mTLS, from 1 and from 64 concurrent callers on one gRPC connection
// (bench/loadgen), through the plugin's stable address (a symlink to the
// serving instance's data socket) against the same calls straight to that
// data socket, and against the floor of a raw Unix-socket echo without TLS
// or gRPC. Also the design not taken: a proxy in the Node supervisor, here
// its TCP relay (`dataPlane.tcp`), which joins each TCP connection byte for
// byte to the stable address. Then hot updates: 64 callers through the
// stable address while three releases are deployed, against the steady runs
// and against three deploys that swap nothing (see underDeploys).
//
// Every case runs against one supervisor and one instance (the swaps aside),
// in rounds, in another order each round, each run with a warm-up on a new
// connection; a case's latencies are those of all its rounds together, of
// the calls that succeeded (failed calls are counted apart). The swap run's
// p99 is compared with the steady runs through the stable address at 64.
// The plugin keeps its default limits (1 core); only its CPU breaker's
// window is lengthened, so that the sustained load does not stop it midway.
import { execa } from "execa";
import { readFile, readlink, rm } from "node:fs/promises";
import path from "node:path";
import { performance } from "node:perf_hooks";
import { makeRelease } from "../test/helpers/echo.ts";
import { corralctl, TestSupervisor } from "../test/helpers/supervisor.ts";
import { benchTempDir } from "./leftovers.ts";
import { clientCredentials, machine, ratio, repoRoot, summarize, type BenchResult, type Metric } from "./lib.ts";

const ROUNDS = Number(process.env.BENCH_DATAPLANE_ROUNDS ?? 6);
/** Measured per case and round; each run warms up first, on a connection of its own. */
const SECONDS = Number(process.env.BENCH_DATAPLANE_SECONDS ?? 1);
const WARMUP_MS = 300;
const SWAP_SECONDS = 10;
const SWAPS = 3;
const CALLERS = [1, 64];
const CASES = ["raw", "direct", "stable", "relay"] as const;
const PAYLOAD = 64;
const TRUST_DOMAIN = "test.corral.local";

const echoBinary = path.join(repoRoot, "build/test-plugins/echo");
const loadgenBinary = path.join(repoRoot, "build/bench/loadgen");

/** What bench/loadgen prints. */
interface LoadReport {
  calls: number;
  failed: number;
  failures: Record<string, number>;
  durationMs: number;
  throughput: number;
}

type Case = (typeof CASES)[number];

/** One case at one concurrency, over all its rounds. */
interface Runs {
  /** µs, of every call that succeeded. */
  latencies: number[];
  /** calls/s of each round. */
  throughputs: number[];
  failed: number;
  failures: Record<string, number>;
}

const described: Record<Case | "redeploy" | "swap", string> = {
  raw: "raw Unix-socket echo (floor)",
  direct: "instance's data.sock",
  stable: "stable address (link)",
  relay: "Node TCP relay",
  redeploy: `stable address, ${SWAPS} no-op deploys`,
  swap: `stable address, ${SWAPS} deploys`,
};

const round2 = (v: number) => Math.round(v * 100) / 100;
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

export async function run(): Promise<BenchResult> {
  await execa("go", ["build", "-trimpath", "-o", loadgenBinary, "./bench/loadgen"], {
    cwd: repoRoot,
    env: { CGO_ENABLED: "0" },
  });
  const work = await benchTempDir("dataplane");
  let supervisor: TestSupervisor | undefined;
  let rawServer: ReturnType<typeof execa> | undefined;
  try {
    const first = await makeRelease(echoBinary, work, "a");
    supervisor = await TestSupervisor.start({
      plugins: [
        {
          name: "echo",
          binary: first,
          apiVersion: "1.0",
          dataPlane: { tcp: "127.0.0.1:0" },
          breakers: { cpu: { window: "1h" } },
        },
      ],
      config: { trustDomain: TRUST_DOMAIN },
    });
    const sup = supervisor;
    const { files: pems } = await clientCredentials(sup.stateDir, TRUST_DOMAIN, "echo", work);

    const status = await sup.plugin("echo");
    // Straight to the instance: its data socket in its own directory; the
    // stable address leads to the same socket as the supervisor published it.
    const dataSocket = path.join(sup.runtimeDir, "instances", status.instance!.id, "data.sock");
    const published = path.join(sup.runtimeDir, "instances", `${status.instance!.id}.d`, "data.sock");
    if ((await readlink(status.address)) !== published) {
      throw new Error(`the stable address ${status.address} does not point at the instance's published data socket ${published}`);
    }
    if (!status.tcpAddress) throw new Error("the plugin has no TCP address");

    const rawSocket = path.join(work, "raw.sock");
    rawServer = execa(loadgenBinary, ["-mode", "rawserver", "-target", rawSocket, "-payload", String(PAYLOAD)], { buffer: false });
    await new Promise<void>((resolve, reject) => {
      rawServer!.stdout!.once("data", () => resolve());
      rawServer!.catch(reject);
    });

    const targets: Record<Case, string> = { raw: rawSocket, direct: dataSocket, stable: status.address, relay: status.tcpAddress };
    const runs: Record<string, Runs> = {};
    let n = 0;
    const load = async (c: Case, callers: number, seconds: number, into: string) => {
      const file = path.join(work, `latencies-${n++}`);
      const args = ["-target", targets[c], "-concurrency", String(callers), "-duration", `${seconds}s`, "-warmup", `${WARMUP_MS}ms`];
      const mode = c === "raw" ? ["-mode", "raw"] : ["-ca", pems.ca, "-cert", pems.cert, "-key", pems.key, "-plugin", "echo"];
      const r = await execa(loadgenBinary, [...mode, ...args, "-payload", String(PAYLOAD), "-latencies", file]);
      const report = JSON.parse(r.stdout) as LoadReport;
      const latencies = (await readFile(file, "utf8")).split("\n").filter(Boolean).map(Number);
      await rm(file);
      const acc = (runs[into] ??= { latencies: [], throughputs: [], failed: 0, failures: {} });
      for (const l of latencies) acc.latencies.push(l);
      acc.throughputs.push(report.throughput);
      acc.failed += report.failed;
      for (const [what, count] of Object.entries(report.failures)) acc.failures[what] = (acc.failures[what] ?? 0) + count;
    };

    // Rounds, each case in another place of the order each round, so that drift on the machine hits all alike.
    for (const callers of CALLERS) {
      for (let round = 0; round < ROUNDS; round++) {
        for (let i = 0; i < CASES.length; i++) {
          const c = CASES[(i + round) % CASES.length]!;
          await load(c, callers, SECONDS, `${c}_at_${callers}`);
        }
      }
    }

    // Hot updates under load: 64 callers through the stable address while
    // `corralctl deploy` runs SWAPS times, a second apart from a second into
    // the measured window; every deploy must have ended within it. First the
    // control: deploys of the release that already serves, which cost the
    // same CLI start, admin call and import but start no instance and swap
    // nothing, so that what the swaps themselves cost can be told from what
    // running the tooling costs on a machine the callers already saturate.
    const underDeploys = async (into: string, binary: (i: number) => Promise<string>, swaps: boolean) => {
      const loading = load("stable", 64, SWAP_SECONDS, into);
      const measuring = performance.now() + WARMUP_MS;
      await sleep(WARMUP_MS + 1000);
      const took: number[] = [];
      let release = "";
      for (let i = 0; i < SWAPS; i++) {
        if (i > 0) await sleep(1000);
        const file = await binary(i);
        const t0 = performance.now();
        const r = await corralctl(["--config", sup.configFile, "deploy", "echo", file, "--json"]);
        took.push(performance.now() - t0);
        if (r.code !== 0) throw new Error(`deploy ${i + 1} failed: ${r.stderr}`);
        const outcome = JSON.parse(r.stdout) as { release: string; changed: boolean };
        if (outcome.changed !== swaps) throw new Error(`deploy ${i + 1} ${swaps ? "changed nothing" : "swapped instances"}`);
        release = outcome.release;
      }
      const ended = (performance.now() - measuring) / 1000;
      await loading;
      if (ended > SWAP_SECONDS) throw new Error(`the deploys ended ${ended.toFixed(1)} s into a ${SWAP_SECONDS} s window`);
      if ((await sup.plugin("echo")).instance?.release !== release) throw new Error(`release ${release} does not serve`);
      return { took, ended };
    };
    const redeploys = await underDeploys("redeploy_at_64", async () => first, false);
    const swaps = await underDeploys("swap_at_64", (i) => makeRelease(echoBinary, work, `swap${i}`), true);

    const metrics: Record<string, Metric> = {};
    for (const [name, r] of Object.entries(runs)) {
      metrics[`latency_${name}`] = summarize(r.latencies, "µs");
      metrics[`throughput_${name}`] = summarize(r.throughputs, "calls/s");
    }
    metrics.deploy_under_load = summarize(swaps.took, "ms");
    metrics.redeploy_under_load = summarize(redeploys.took, "ms");
    metrics.failed_calls_during_swaps = summarize([runs.swap_at_64!.failed], "calls");
    metrics.failed_calls = summarize([Object.values(runs).reduce((sum, r) => sum + r.failed, 0)], "calls");

    const m = (name: string) => metrics[`latency_${name}`]!;
    const t = (name: string) => metrics[`throughput_${name}`]!;
    const result: BenchResult = {
      machine: machine(),
      metrics,
      ratios: {
        stable_vs_direct_p50: ratio(m("stable_at_1"), m("direct_at_1")),
        stable_vs_direct_p50_at_64: ratio(m("stable_at_64"), m("direct_at_64")),
        swap_vs_steady_p99: round2(m("swap_at_64").p99! / m("stable_at_64").p99!),
        redeploy_vs_steady_p99: round2(m("redeploy_at_64").p99! / m("stable_at_64").p99!),
        swap_vs_redeploy_p99: round2(m("swap_at_64").p99! / m("redeploy_at_64").p99!),
        node_relay_vs_direct_p50: ratio(m("relay_at_1"), m("direct_at_1")),
        node_relay_vs_direct_p99: round2(m("relay_at_1").p99! / m("direct_at_1").p99!),
        node_relay_vs_direct_p50_at_64: ratio(m("relay_at_64"), m("direct_at_64")),
        node_relay_vs_direct_throughput_at_64: ratio(t("relay_at_64"), t("direct_at_64")),
        direct_vs_raw_p50: ratio(m("direct_at_1"), m("raw_at_1")),
        direct_vs_raw_p50_at_64: ratio(m("direct_at_64"), m("raw_at_64")),
      },
    };
    printRuns(runs, metrics, Math.max(swaps.ended, redeploys.ended));
    return result;
  } finally {
    rawServer?.kill("SIGTERM");
    await rawServer?.catch(() => {});
    await supervisor?.cleanup();
    await rm(work, { recursive: true, force: true });
  }
}

/** The table printTable has no room for: p50 and p99 side by side, throughput and failures per case. */
function printRuns(runs: Record<string, Runs>, metrics: Record<string, Metric>, deploysEnded: number): void {
  const rows = Object.keys(runs).map((name) => {
    const [c, callers] = name.split("_at_") as [keyof typeof described, string];
    const l = metrics[`latency_${name}`]!;
    return [described[c], callers, `${l.median}`, `${l.p99}`, `${l.max}`, `${metrics[`throughput_${name}`]!.median}`, `${runs[name]!.failed}`];
  });
  const header = ["path", "callers", "p50 µs", "p99 µs", "max µs", "calls/s", "failed"];
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((r) => r[i]!.length)));
  const line = (cells: string[]) => cells.map((c, i) => (i === 0 ? c.padEnd(widths[i]!) : c.padStart(widths[i]!))).join("  ");
  console.log(
    `\ndataplane: ${ROUNDS} rounds of ${SECONDS} s per case (calls/s: median of rounds); ` +
      `${SWAP_SECONDS} s with ${SWAPS} deploys, which all ended by ${deploysEnded.toFixed(1)} s`,
  );
  console.log([line(header), ...rows.map(line)].join("\n"));
  for (const [name, r] of Object.entries(runs)) {
    for (const [what, count] of Object.entries(r.failures)) console.log(`  ${name}: ${count} × ${what}`);
  }
}
