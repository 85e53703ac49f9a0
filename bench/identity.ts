// Identity on the data path: issuing an instance's leaf (ECDSA P-256, vs RSA
// 2048), the cost of a new mTLS connection to a sandboxed plugin (vs a call on
// an open one), and call throughput while its certificate is rotated
// continuously (vs not rotated), all in one run.
import { credentials, type ChannelCredentials } from "@grpc/grpc-js";
import path from "node:path";
import { performance } from "node:perf_hooks";
import { generateRsaKey, issueClientLeaf, issuePluginLeaf, pluginServerIdentity, type KeySource } from "../supervisor/identity/index.ts";
import { PluginInstance } from "../supervisor/plugin/instance.ts";
import { greeterClient, sayHello } from "../test/helpers/greeter.ts";
import { openHarness } from "./harness.ts";
import { machine, ratio, summarize, type BenchResult } from "./lib.ts";

const RUNS = Number(process.env.BENCH_RUNS ?? 50);
/** Throughput rounds, each of one steady and one rotating run of THROUGHPUT_MS. */
const THROUGHPUT_ROUNDS = Number(process.env.BENCH_IDENTITY_ROUNDS ?? 5);
const THROUGHPUT_MS = 1500;
const IN_FLIGHT = 4;

export async function run(): Promise<BenchResult> {
  const h = await openHarness();
  const { trust, plugin } = h;
  const ca = trust.ca;
  const instance = await PluginInstance.launch(plugin, h.env);
  try {
    await instance.ready(AbortSignal.timeout(10_000));

    // Issuance.
    const issue = async (keys?: KeySource) => {
      const t0 = performance.now();
      await issuePluginLeaf(ca, { trustDomain: ca.trustDomain, plugin: "bench", ttlMs: 3600_000, ...(keys && { keys }) });
      return performance.now() - t0;
    };
    const rsa: KeySource = { take: () => generateRsaKey(2048) };
    const ecdsa: number[] = [];
    const rsaSamples: number[] = [];
    for (let i = 0; i < RUNS; i++) {
      ecdsa.push(await issue());
      rsaSamples.push(await issue(rsa));
    }

    // A new mTLS connection per call vs calls on one open connection.
    const client = await issueClientLeaf(ca, { trustDomain: ca.trustDomain, ttlMs: 3600_000 }, "bench", ["greeter"]);
    const creds = (): ChannelCredentials =>
      credentials.createSsl(Buffer.from(ca.certPem), Buffer.from(client.keyPem), Buffer.from(client.certPem), {
        checkServerIdentity: pluginServerIdentity({ trustDomain: ca.trustDomain, plugin: "greeter" }),
      });
    const socket = path.join(instance.directory, "plugin.sock");
    const open = greeterClient(socket, creds());
    await open.sayHello("warm");
    const timed = async (call: () => Promise<unknown>) => {
      const t0 = performance.now();
      await call();
      return performance.now() - t0;
    };
    const fresh: number[] = [];
    const reused: number[] = [];
    for (let i = 0; i < RUNS; i++) {
      fresh.push(await timed(() => sayHello(socket, creds(), "bench")));
      reused.push(await timed(() => open.sayHello("bench")));
    }
    open.close();

    // Throughput, new connections each call so rotation is on the path, with
    // and without rotation, in rounds of each, in another order each round,
    // so drift on the (shared) machine hits both alike.
    const throughput = async (rotate: boolean) => {
      let calls = 0;
      let failures = 0;
      let rotations = 0;
      const end = Date.now() + THROUGHPUT_MS;
      const rotator = (async () => {
        while (rotate && Date.now() < end) {
          await instance.rotateCertificate();
          rotations++;
          await new Promise((r) => setTimeout(r, 100));
        }
      })();
      await Promise.all(
        Array.from({ length: IN_FLIGHT }, async () => {
          while (Date.now() < end) {
            await sayHello(socket, creds(), "t").then(
              () => calls++,
              () => failures++,
            );
          }
        }),
      );
      await rotator;
      return { perSecond: (calls / THROUGHPUT_MS) * 1000, failures, rotations };
    };
    const steady: number[] = [];
    const rotating: number[] = [];
    let rotations = 0;
    let failures = 0;
    for (let round = 0; round < THROUGHPUT_ROUNDS; round++) {
      for (const rotate of round % 2 === 0 ? [false, true] : [true, false]) {
        const r = await throughput(rotate);
        (rotate ? rotating : steady).push(r.perSecond);
        rotations += r.rotations;
        failures += r.failures;
      }
    }
    if (failures > 0) throw new Error(`${failures} calls failed while measuring throughput`);

    const metrics = {
      leaf_issuance_ecdsa: summarize(ecdsa, "ms"),
      leaf_issuance_rsa2048: summarize(rsaSamples, "ms"),
      call_new_connection: summarize(fresh, "ms"),
      call_open_connection: summarize(reused, "ms"),
      calls_per_second_steady: summarize(steady, "calls/s"),
      calls_per_second_rotating: summarize(rotating, "calls/s"),
      rotations_during_run: summarize([rotations], "rotations"),
    };
    const handshake = metrics.call_new_connection.median - metrics.call_open_connection.median;
    return {
      machine: machine(),
      metrics: { ...metrics, tls_handshake_cost: summarize([handshake], "ms") },
      ratios: {
        ecdsa_vs_rsa2048_issuance: ratio(metrics.leaf_issuance_ecdsa, metrics.leaf_issuance_rsa2048),
        new_vs_open_connection_call: ratio(metrics.call_new_connection, metrics.call_open_connection),
        rotating_vs_steady_throughput: ratio(metrics.calls_per_second_rotating, metrics.calls_per_second_steady),
      },
    };
  } finally {
    await instance.destroy();
    await h.close();
  }
}
