// The stable address carries the plugin's own services unchanged (issue 6):
// every kind of call, metadata both ways, deadlines, cancellation, status
// details, large messages; over the Unix socket and the optional TCP
// listener; and when no instance can serve, calls fail at once with
// UNAVAILABLE and the reason.
import { loadPackageDefinition, Metadata, status, type ChannelCredentials, type ServiceError } from "@grpc/grpc-js";
import { loadSync } from "@grpc/proto-loader";
import { execa } from "execa";
import { lstat, mkdir, readlink, rename, stat, symlink, writeFile } from "node:fs/promises";
import path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { connect, channelOptions, CREDENTIALS_REFRESH_MS, pluginCredentials, type ConnectOptions, type ServiceClientConstructor } from "../client/index.ts";
import { echoClient, echoErrorDomain, echoProto, sha256File, statusDetails, type EchoClient, type EchoGrpcClient } from "./helpers/echo.ts";
import { corralctl, repoRoot, TestSupervisor } from "./helpers/supervisor.ts";

const echoBinary = path.join(repoRoot, "build/test-plugins/echo");
const MiB = 1024 * 1024;

let supervisor: TestSupervisor;
let creds: ChannelCredentials;
let pems: { caPem: string; certPem: string; keyPem: string };
let address: string;
let tcpAddress: string;
let client: EchoClient;

beforeAll(async () => {
  supervisor = await TestSupervisor.start({
    plugins: [
      { name: "echo", binary: echoBinary, apiVersion: "1.0", dataPlane: { tcp: "127.0.0.1:0", maxMessageSize: "6MiB" } },
      // Never becomes ready: its address refuses calls, with the reason.
      { name: "broken", binary: path.join(repoRoot, "build/test-plugins/echo-crash"), apiVersion: "1.0", restart: { initialBackoff: "30s", quarantineAfter: 1 } },
    ],
  });
  pems = await supervisor.clientPems("passthrough-test", ["echo", "broken"]);
  creds = pluginCredentials("echo", pems);
  const status = await supervisor.plugin("echo");
  address = status.address;
  tcpAddress = status.tcpAddress;
  client = echoClient(address, creds, channelOptions({ maxMessageSize: 6 * MiB, retry: false }));
}, 60_000);

/** Makes a symbolic link at `at` to `target`; returns `at`. */
async function writeLink(at: string, target: string): Promise<string> {
  await symlink(target, at);
  return at;
}

afterAll(async () => {
  client?.close();
  await supervisor?.cleanup();
});

describe("the stable address", () => {
  it("is a link under the runtime directory to the serving instance's data socket, published beside its directory", async () => {
    const instance = (await supervisor.plugin("echo")).instance!;
    expect(address).toBe(path.join(supervisor.runtimeDir, "plugins/echo.sock"));
    expect((await lstat(address)).isSymbolicLink()).toBe(true);
    const dir = path.join(supervisor.runtimeDir, "instances", instance.id);
    expect(await readlink(address)).toBe(path.join(`${dir}.d`, "data.sock"));
    // The same socket (a hard link), in a directory of root's: the plugin cannot replace it.
    const [published, own] = [await lstat(path.join(`${dir}.d`, "data.sock")), await lstat(path.join(dir, "data.sock"))];
    expect(published.isSocket()).toBe(true);
    expect([published.ino, published.dev]).toEqual([own.ino, own.dev]);
    const publishedDir = await stat(`${dir}.d`);
    expect([publishedDir.uid, publishedDir.mode & 0o777]).toEqual([0, 0o711]);
    expect((await stat(path.dirname(dir))).uid).toBe(0);
    // Any uid may connect (its certificate decides what it may call); nobody but the instance reads its key.
    expect((await stat(path.join(dir, "data.sock"))).mode & 0o777).toBe(0o666);
    expect((await stat(dir)).mode & 0o777).toBe(0o711);
    expect((await stat(path.join(dir, "key.pem"))).mode & 0o777).toBe(0o600);
    const { reply } = await client.unary({ message: "hi", sleepMs: 0, replySize: 0 });
    expect(reply.message).toBe("hi");
    expect(reply.instance).toBe(instance.id);
    expect(reply.release).toBe(await sha256File(echoBinary));
  });

  it("carries metadata both ways", async () => {
    const { headers, trailers } = await client.unary({ message: "md", sleepMs: 0, replySize: 0 }, { metadata: { "x-echo-trace": "abc123" } });
    expect(headers.get("x-echo-trace")).toEqual(["abc123"]);
    expect(trailers.get("x-echo-trace")).toEqual(["abc123"]);
  });

  it("carries deadlines: a call outliving its deadline fails with DEADLINE_EXCEEDED, and the plugin sees it end", async () => {
    const before = await client.cancelled();
    const err = (await client.unary({ message: "slow", sleepMs: 5000, replySize: 0 }, { deadlineMs: 200 }).catch((e: ServiceError) => e)) as ServiceError;
    expect(err.code).toBe(status.DEADLINE_EXCEEDED);
    await expect.poll(() => client.cancelled(), { timeout: 3000 }).toBe(before + 1);
  });

  it("carries cancellation to the plugin", async () => {
    const before = await client.cancelled();
    const abort = new AbortController();
    const call = client.unary({ message: "cancel me", sleepMs: 5000, replySize: 0 }, { signal: abort.signal }).catch((e: ServiceError) => e);
    setTimeout(() => abort.abort(), 200);
    expect(((await call) as ServiceError).code).toBe(status.CANCELLED);
    await expect.poll(() => client.cancelled(), { timeout: 3000 }).toBe(before + 1);
  });

  it("carries status codes, messages and details", async () => {
    const err = await client.fail({ code: status.FAILED_PRECONDITION, message: "not today", detailReason: "QUOTA" });
    expect(err.code).toBe(status.FAILED_PRECONDITION);
    expect(err.details).toBe("not today");
    const details = statusDetails(err);
    expect(details?.details[0]?.errorInfo).toMatchObject({ reason: "QUOTA", domain: echoErrorDomain });
  });

  it("carries client, server and bidirectional streams", async () => {
    const server = await client.serverStream({ message: "n", count: 5, intervalMs: 1 });
    expect(server.replies).toHaveLength(5);
    const up = await client.clientStream([1, 2, 3].map((n) => ({ message: `m${n}`, sleepMs: 0, replySize: 0 })));
    expect(up.reply.message).toMatch(/m1.*m2.*m3|3/);
    const both = await client.bidi(["a", "b", "c"].map((message) => ({ message, sleepMs: 0, replySize: 0 })));
    expect(both.replies.map((r) => r.message)).toEqual(["a", "b", "c"]);
  });

  it("carries messages up to the configured limit, and refuses larger ones", async () => {
    const big = await client.unary({ message: "big", sleepMs: 0, replySize: 5 * MiB, payload: Buffer.alloc(5 * MiB, 7) });
    expect(big.reply.receivedBytes).toBe(5 * MiB);
    expect(big.reply.payload.length).toBe(5 * MiB);
    const err = (await client.unary({ message: "too big", sleepMs: 0, replySize: 0, payload: Buffer.alloc(7 * MiB) }).catch((e: ServiceError) => e)) as ServiceError;
    expect(err.code).toBe(status.RESOURCE_EXHAUSTED);
  });

  it("answers over the TCP listener too, with mTLS end to end", async () => {
    expect(tcpAddress).toMatch(/^127\.0\.0\.1:\d+$/);
    const tcp = echoClient(tcpAddress, creds);
    try {
      const { reply } = await tcp.unary({ message: "over tcp", sleepMs: 0, replySize: 0 });
      expect(reply.message).toBe("over tcp");
    } finally {
      tcp.close();
    }
  });

  it("is reached by the client library's connect()", async () => {
    const Echo = (loadPackageDefinition(loadSync(echoProto, { longs: Number, defaults: true })) as unknown as {
      corral: { test: { echo: { v1: { Echo: ServiceClientConstructor<EchoGrpcClient> } } } };
    }).corral.test.echo.v1.Echo;
    const c = connect("echo", Echo, { credentials: pems, runtimeDir: supervisor.runtimeDir });
    try {
      const reply = await new Promise<{ message: string }>((resolve, reject) =>
        c.Unary({ message: "via connect", sleepMs: 0, replySize: 0 }, new Metadata(), {}, (err, r) => (err ? reject(err) : resolve(r!))),
      );
      expect(reply.message).toBe("via connect");
    } finally {
      c.close();
    }
  });

  it("fails connect()'s calls past their deadline with DEADLINE_EXCEEDED, also when the plugin's reset comes first, and a cancelled one with CANCELLED", async () => {
    const Echo = (loadPackageDefinition(loadSync(echoProto, { longs: Number, defaults: true })) as unknown as {
      corral: { test: { echo: { v1: { Echo: ServiceClientConstructor<EchoGrpcClient> } } } };
    }).corral.test.echo.v1.Echo;
    const c = connect("echo", Echo, { credentials: pems, runtimeDir: supervisor.runtimeDir, retry: false });
    try {
      const call = (deadlineMs: number) =>
        new Promise<number>((resolve) =>
          c.Unary({ message: "late", sleepMs: 1000, replySize: 0 }, new Metadata(), { deadline: Date.now() + deadlineMs }, (err) => resolve(err?.code ?? status.OK)),
        );
      await call(10_000).catch(() => {}); // connected
      // The plugin's RST_STREAM(CANCEL) at the deadline read before grpc-js's
      // own timer fires: this process is kept busy across the deadline, so
      // the reset waits in the socket, and the next turn of the event loop
      // reads it before it runs the deadline's timers (the timers of this
      // turn were taken at its start).
      const calls = Array.from({ length: 20 }, () => call(100));
      await new Promise<void>((resolve) =>
        setTimeout(() => {
          const until = Date.now() + 300;
          while (Date.now() < until); // the requests went out at once; the plugin resets them at 100 ms
          resolve();
        }, 50),
      );
      const codes = await Promise.all(calls);
      expect(codes.filter((code) => code !== status.DEADLINE_EXCEEDED)).toEqual([]);
      // A call its caller cancels stays CANCELLED, even past its deadline.
      const cancelled = await new Promise<number>((resolve) => {
        const pending = c.Unary({ message: "cancelled", sleepMs: 1000, replySize: 0 }, new Metadata(), { deadline: Date.now() + 50 }, (err) => resolve(err?.code ?? status.OK));
        setTimeout(() => {
          const until = Date.now() + 60;
          while (Date.now() < until); // past the deadline before the timers run
          pending.cancel();
        }, 0);
      });
      expect(cancelled).toBe(status.CANCELLED);
    } finally {
      c.close();
    }
  });

  it("is reached by connect() with a credentials directory, whose renewal new connections take up", async () => {
    const Echo = (loadPackageDefinition(loadSync(echoProto, { longs: Number, defaults: true })) as unknown as {
      corral: { test: { echo: { v1: { Echo: ServiceClientConstructor<EchoGrpcClient> } } } };
    }).corral.test.echo.v1.Echo;
    const dir = path.join(supervisor.dir, "renewed-credentials");
    await mkdir(dir, { recursive: true });
    const put = async (p: { caPem: string; certPem: string; keyPem: string }) => {
      await writeFile(path.join(dir, "ca.pem"), p.caPem);
      await writeFile(path.join(dir, "cert.pem"), p.certPem);
      await writeFile(path.join(dir, "key.pem"), p.keyPem, { mode: 0o600 });
    };
    // First a certificate for another plugin: echo refuses it.
    await put(await supervisor.clientPems("renewing-host", ["other"]));
    const c = connect("echo", Echo, { credentials: dir, runtimeDir: supervisor.runtimeDir, retry: false });
    const call = () =>
      new Promise<string>((resolve) =>
        c.Unary({ message: "x", sleepMs: 0, replySize: 0 }, new Metadata(), { deadline: new Date(Date.now() + 3000) }, (err) => resolve(err ? `${err.code}` : "ok")),
      );
    try {
      expect(await call()).toBe(`${status.PERMISSION_DENIED}`);
      // Its operator issues the right one into the same directory; once the
      // client has read it again, echo's restart sends the open connection
      // away, and the new one presents it.
      await put(await supervisor.clientPems("renewing-host", ["echo"]));
      await new Promise((r) => setTimeout(r, CREDENTIALS_REFRESH_MS + 500));
      expect((await corralctl(["--config", supervisor.configFile, "restart", "echo"])).code).toBe(0);
      const deadline = Date.now() + 5000;
      let last = await call();
      while (last !== "ok" && Date.now() < deadline) {
        await new Promise((r) => setTimeout(r, 200));
        last = await call();
      }
      expect(last).toBe("ok");
    } finally {
      c.close();
    }
  }, 40_000);

  it("is reached from Go by go-shim/client's Connect, which accepts only the plugin it names", async () => {
    const dir = path.join(supervisor.dir, "go-host-credentials");
    await mkdir(dir, { recursive: true });
    await Promise.all([
      writeFile(path.join(dir, "ca.pem"), pems.caPem),
      writeFile(path.join(dir, "cert.pem"), pems.certPem),
      writeFile(path.join(dir, "key.pem"), pems.keyPem, { mode: 0o600 }),
    ]);
    const host = path.join(repoRoot, "build/test-hosts/echo-call");
    const ok = await execa(host, ["-credentials", dir, "-runtime-dir", supervisor.runtimeDir, "-message", "from go"], { reject: false });
    expect(ok.stderr).toBe("");
    expect(ok.stdout).toBe("from go");
    const overTcp = await execa(host, ["-credentials", dir, "-address", tcpAddress, "-message", "over tcp"], { reject: false });
    expect(overTcp.stderr).toBe("");
    expect(overTcp.stdout).toBe("over tcp");

    // The same certificate may call "broken" too, but echo's address does not lead to it.
    const wrong = await execa(host, ["-plugin", "broken", "-credentials", dir, "-address", address], { reject: false });
    expect(wrong.exitCode).toBe(1);
    // (gRPC quotes the handshake's error inside its own.)
    expect(wrong.stderr).toMatch(
      /authentication handshake failed: the server's certificate has URI SANs \[\\?"spiffe:\/\/test\.corral\.local\/plugin\/echo\\?"\], want exactly \\?"spiffe:\/\/test\.corral\.local\/plugin\/broken\\?"/,
    );

    const missing = await execa(host, ["-credentials", path.join(supervisor.dir, "nowhere"), "-runtime-dir", supervisor.runtimeDir], { reject: false });
    expect(missing.exitCode).toBe(1);
    expect(missing.stderr).toContain(`corral client: credentials ${path.join(supervisor.dir, "nowhere")}: open ${path.join(supervisor.dir, "nowhere", "ca.pem")}: no such file or directory`);
  });

  it("refuses at once, with UNAVAILABLE and the reason, while no instance can serve", async () => {
    await supervisor.waitForPlugin("broken", (p) => p.state === "quarantined" || p.state === "backoff");
    const broken = echoClient((await supervisor.plugin("broken")).address, pluginCredentials("broken", pems), channelOptions({ retry: false }));
    try {
      const started = Date.now();
      const err = (await broken.unary({ message: "anyone?", sleepMs: 0, replySize: 0 }).catch((e: ServiceError) => e)) as ServiceError;
      const took = Date.now() - started;
      expect(err.code).toBe(status.UNAVAILABLE);
      expect(err.details).toMatch(/^plugin broken is (quarantined|restarting after a failure): .*exited with status 3/);
      expect(took).toBeLessThan(2000); // not a hang until the deadline (10 s)
    } finally {
      broken.close();
    }
  });

  it("gets a caller of the client library back within a fraction of a second once a refused address serves again", async () => {
    // What a caller sees when a plugin dies: for the moments until the supervisor
    // points the address at the refusal server, connect(2) is refused. A link of
    // the test's own stands for the address: first to nothing, then to the plugin.
    const link = path.join(supervisor.dir, "reconnect.sock");
    await symlink(path.join(supervisor.dir, "nothing-here.sock"), link);
    const caller = echoClient(link, creds, channelOptions({ retry: false }));
    try {
      const refused = (await caller.unary({ message: "x", sleepMs: 0, replySize: 0 }).catch((e: ServiceError) => e)) as ServiceError;
      expect(refused.code).toBe(status.UNAVAILABLE);
      expect(refused.details).toMatch(/^No connection established/);
      await rename(await writeLink(path.join(supervisor.dir, "reconnect.sock.new"), await readlink(address)), link);
      const serving = Date.now();
      for (;;) {
        const ok = await caller.unary({ message: "back", sleepMs: 0, replySize: 0 }).then(() => true, () => false);
        if (ok) break;
        await new Promise((r) => setTimeout(r, 10));
      }
      // gRPC's default backoff would keep failing calls for 0.8-1.2 s (1 s ± 20 %); connect() waits 100 ms ± 20 %.
      expect(Date.now() - serving).toBeLessThan(500);
    } finally {
      caller.close();
    }
  });

  it("keeps a quiet stream open while its client pings to keep it alive", async () => {
    // gRPC servers by default take a ping less than 5 min after the last for
    // abuse and close the connection after three: a stream quiet for 2 min
    // failed with RESOURCE_EXHAUSTED when the client library pinged every
    // 30 s. It pings every 2 s now, while calls are in flight: the default
    // would end this stream at the fourth ping after its first reply.
    const pinging = echoClient(address, creds, channelOptions({ retry: false }));
    try {
      const { replies } = await pinging.serverStream({ message: "quiet", count: 2, intervalMs: 9_000, replySize: 0 }, { deadlineMs: 20_000 });
      expect(replies.map((r) => r.message)).toEqual(["quiet", "quiet"]);
    } finally {
      pinging.close();
    }
  }, 25_000);

  /**
   * A call made just before the plugin's process is frozen (SIGSTOP from the
   * test, no park before it), with `retry`: how it ended. The plugin is
   * continued after, and serves again.
   */
  async function callToFrozenPlugin(retry: ConnectOptions["retry"], deadlineMs: number) {
    const caller = echoClient(address, creds, channelOptions(retry === undefined ? {} : { retry }));
    const pid = (await supervisor.plugin("echo")).instance!.pid;
    let outcome;
    try {
      await caller.unary({ message: "awake", sleepMs: 0, replySize: 0 }, { deadlineMs: 5_000 });
      const call = caller.unary({ message: "frozen", sleepMs: 1_000, replySize: 0 }, { deadlineMs }).then(
        () => "answered",
        (err: ServiceError) => ({ code: err.code, details: err.details }),
      );
      process.kill(pid!, "SIGSTOP");
      outcome = await call;
    } finally {
      process.kill(pid!, "SIGCONT");
      caller.close();
    }
    expect((await client.unary({ message: "thawed", sleepMs: 0, replySize: 0 }, { deadlineMs: 5_000 })).reply.message).toBe("thawed");
    return outcome;
  }

  it("fails a call to a plugin that stops answering with UNAVAILABLE within seconds, not at its deadline", async () => {
    // The client library's keepalive: its pings go unanswered, and the
    // connection ends with its calls. Under chaos, Node itself sometimes
    // stopped reading a connection to a plugin killed with -9.
    expect(await callToFrozenPlugin(false, 30_000)).toMatchObject({ code: status.UNAVAILABLE });
  }, 40_000);

  it("fails such a call with UNAVAILABLE before its deadline under the default retry policy too", async () => {
    // The retry's new connection leads to the frozen process's socket, where
    // the connect waits in the backlog and the TLS handshake is never
    // answered: the client library bounds the handshake (connections.ts).
    // Unbounded, the call waited out its 40 s deadline.
    expect(await callToFrozenPlugin(undefined, 40_000)).toMatchObject({ code: status.UNAVAILABLE });
  }, 60_000);

  it("is shown by corralctl status, with the TCP address", async () => {
    const r = await corralctl(["--config", supervisor.configFile, "status", "echo", "--json"]);
    expect(r.code).toBe(0);
    expect(JSON.parse(r.stdout).plugins[0]).toMatchObject({ address, tcpAddress });
  });
});
