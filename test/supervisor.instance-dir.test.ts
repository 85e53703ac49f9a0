// A plugin owns its instance directory (/corral inside), and can put
// symlinks there. The supervisor is root on the host: what it writes there
// (a renewed certificate, a new CRL) and what it connects to through it must
// never follow a link the plugin planted to a host path of its choosing; nor
// must host applications, whatever their client, that dial the stable
// address, which leads to the plugin's data socket.
import { execa } from "execa";
import { lstat, mkdir, mkdtemp, readFile, rm, symlink, writeFile } from "node:fs/promises";
import net from "node:net";
import { tmpdir } from "node:os";
import path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { ServiceError } from "@grpc/grpc-js";
import { channelOptions, pluginCredentials } from "../client/index.ts";
import type { HealthCheckResponse__Output } from "../proto/gen/ts/grpc/health/v1/HealthCheckResponse.ts";
import { protos } from "../supervisor/rpc/protos.ts";
import { waitForSocket } from "../supervisor/plugin/wait-for-socket.ts";
import { echoClient } from "./helpers/echo.ts";
import { corralctl, repoRoot, TestSupervisor } from "./helpers/supervisor.ts";

const ORIGINAL = "a root-owned host file\n";
let supervisor: TestSupervisor;
/** Host paths the plugin's links name. */
let target: string;
let victim: net.Server;
const victimConnections: net.Socket[] = [];

beforeAll(async () => {
  target = await mkdtemp(path.join(tmpdir(), "corral-planted-"));
  for (const name of ["key.pem", "cert.pem"]) await writeFile(path.join(target, `${name}-target`), ORIGINAL, { mode: 0o644 });
  // A socket on the host that trusts whoever connects (as a daemon may trust root).
  victim = net.createServer((c) => victimConnections.push(c)).listen(path.join(target, "victim.sock"));
  await writeFile(path.join(target, "keep"), ORIGINAL, { mode: 0o644 });
  supervisor = await TestSupervisor.start({
    plugins: [
      {
        name: "planter",
        binary: path.join(repoRoot, "build/test-plugins/planter"),
        apiVersion: "1.0",
        env: { PLANT_TARGET: target },
        dataPlane: { tcp: "127.0.0.1:0" },
      },
      { name: "deep", binary: path.join(repoRoot, "build/test-plugins/planter"), apiVersion: "1.0", env: { PLANT_TARGET: target, PLANT_DEEP: "1" } },
    ],
  });
  await supervisor.waitForLog((l) => l.plugin === "planter" && l.msg === "planted");
  await supervisor.waitForLog((l) => l.plugin === "deep" && l.msg === "planted deep");
}, 60_000);

afterAll(async () => {
  for (const c of victimConnections) c.destroy();
  victim?.close();
  await supervisor?.cleanup();
  if (target) await rm(target, { recursive: true, force: true });
});

const ctl = (...args: string[]) => corralctl(["--config", supervisor.configFile, ...args]);

/** The planted target's content and owner, or "absent". */
async function targetFile(name: string): Promise<string> {
  const file = path.join(target, `${name}-target`);
  const st = await lstat(file).catch(() => undefined);
  return st ? `${st.uid}:${await readFile(file, "utf8")}` : "absent";
}

describe("a plugin's instance directory", () => {
  it("is on a tmpfs of Corral's, nosuid, nodev and noexec: a setuid copy the plugin made there runs as no one on the host", async () => {
    const instances = path.join(supervisor.runtimeDir, "instances");
    const mount = (await readFile("/proc/self/mountinfo", "utf8")).split("\n").find((l) => l.split(" ")[4] === instances) ?? "";
    const [before, after] = mount.split(" - ");
    expect(after?.split(" ").slice(0, 2)).toEqual(["tmpfs", "corral-instances"]);
    // No shared size or inode count one plugin could use up: each is held to its memory limit.
    expect(after?.split(" ")[2]?.split(",")).toEqual(expect.arrayContaining(["size=0k", "nr_inodes=0"]));
    expect(before?.split(" ")[5]?.split(",")).toEqual(expect.arrayContaining(["nosuid", "nodev", "noexec"]));
    const instance = (await supervisor.plugin("planter")).instance!.id;
    const tool = path.join(instances, instance, "tool");
    expect(((await lstat(tool)).mode & 0o6000).toString(8)).toBe("6000"); // it is there, setuid and setgid
    // A host user (nobody) cannot run it, let alone as the plugin's uid.
    const ran = await execa(tool, ["whoami"], { uid: 65534, gid: 65534, reject: false });
    expect(ran.stdout).toBe("");
    expect(ran.code ?? (ran as { originalMessage?: string }).originalMessage).toMatch(/EACCES/);
  });

  it("does not lead a certificate renewal or a CRL publication outside it", async () => {
    const instance = (await supervisor.plugin("planter")).instance!;
    const renewed = await ctl("certs", "rotate", "planter", "--json");
    expect(renewed.code, renewed.stderr).toBe(0);
    expect(JSON.parse(renewed.stdout)).toEqual({ instances: [instance.id] });
    // A revocation publishes a new CRL into every instance directory.
    const issued = await ctl("certs", "issue", "--role", "client", "--name", "someone", "--plugin", "planter", "--out", path.join(supervisor.dir, "someone"), "--json");
    expect(issued.code, issued.stderr).toBe(0);
    const revoked = await ctl("certs", "revoke", "--serial", (JSON.parse(issued.stdout) as { serial: string }).serial);
    expect(revoked.code, revoked.stderr).toBe(0);
    // (Both answer once the instance's files are written.)

    expect(await targetFile("key.pem")).toBe(`0:${ORIGINAL}`);
    expect(await targetFile("cert.pem")).toBe(`0:${ORIGINAL}`);
    expect(await targetFile("crl.pem")).toBe("absent");
    // The instance's own files were replaced, links and all: regular files now.
    const dir = path.join(supervisor.runtimeDir, "instances", instance.id);
    for (const name of ["key.pem", "cert.pem", "crl.pem"]) expect((await lstat(path.join(dir, name))).isFile()).toBe(true);
    expect((await readFile(path.join(dir, "crl.pem"), "utf8")).startsWith("-----BEGIN X509 CRL-----")).toBe(true);
  }, 30_000);

  it("does not lead host applications dialing the stable address, nor the TCP relay, to a host socket the plugin points its data socket at", async () => {
    const status = await supervisor.plugin("planter");
    const instance = status.instance!;
    await writeFile(path.join(supervisor.runtimeDir, "instances", instance.id, "plant-data"), "");
    await supervisor.waitForLog((l) => l.plugin === "planter" && l.msg === "planted data");
    const dir = path.join(supervisor.runtimeDir, "instances", instance.id);
    expect((await lstat(path.join(dir, "data.sock"))).isSymbolicLink()).toBe(true);

    // A gRPC client of the stable address, as any host application's: its call reaches the plugin.
    const creds = pluginCredentials("planter", await supervisor.clientPems("host-app", ["planter"]));
    const client = new (protos().health.grpc.health.v1.Health)(`unix://${status.address}`, creds, channelOptions({ retry: false }));
    try {
      const checked = await new Promise<string>((resolve) =>
        client.Check({ service: "" }, { deadline: new Date(Date.now() + 5000) }, (err: ServiceError | null, reply?: HealthCheckResponse__Output) =>
          resolve(err ? `${err.code}: ${err.details}` : String(reply?.status)),
        ),
      );
      expect(checked).toBe("SERVING");
    } finally {
      client.close();
    }
    // Plain bytes on the address and through the TCP relay land in the plugin's socket too (it answers them as TLS would).
    const answered = (socket: net.Socket) => {
      socket.on("error", () => {});
      socket.write("bytes from a host application\n");
      const closed = new Promise((resolve) => socket.once("close", () => resolve("closed")));
      return Promise.race([closed, new Promise((resolve) => setTimeout(resolve, 5000, "still open after 5 s"))]);
    };
    expect(await answered(net.connect(status.address))).toBe("closed");
    const tcp = status.tcpAddress;
    expect(tcp).toMatch(/^127\.0\.0\.1:\d+$/);
    const colon = tcp.lastIndexOf(":");
    expect(await answered(net.connect(Number(tcp.slice(colon + 1)), tcp.slice(0, colon)))).toBe("closed");
    expect(victimConnections).toHaveLength(0);
    expect(supervisor.logs.filter((l) => l.msg === "TCP connection not relayed")).toEqual([]);
  }, 30_000);
});

describe("a plugin's instance socket", () => {
  it("is connected to by its inode: a symlink the plugin puts in its place leads the supervisor's Control connections nowhere", async () => {
    const instance = (await supervisor.plugin("planter")).instance!;
    await writeFile(path.join(supervisor.runtimeDir, "instances", instance.id, "plant-control"), "");
    await supervisor.waitForLog((l) => l.plugin === "planter" && l.msg === "planted control");
    // A rotation makes a new Control channel; a capture makes calls on it.
    expect((await ctl("certs", "rotate", "planter")).code).toBe(0);
    await ctl("diag", "planter", "--capture");
    expect(victimConnections).toHaveLength(0);
  }, 30_000);

  it("is waited for by its inode too: a plugin that puts a symlink in its place at its start is refused at once, not restarted, and nothing connects to where it leads", async () => {
    const dir = await mkdtemp(path.join(tmpdir(), "corral-wait-planted-"));
    try {
      const socket = path.join(dir, "plugin.sock");
      await symlink(path.join(target, "victim.sock"), socket);
      await expect(waitForSocket(socket, AbortSignal.timeout(5000))).rejects.toThrow(`${socket} is not a socket but a symlink: not followed`);
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
    // A plugin that does so: quarantined at its first start, as a refusal (no crash loop).
    const s = await TestSupervisor.start({
      plugins: [{ name: "linker", binary: path.join(repoRoot, "build/test-plugins/probe"), args: ["symlink-socket", path.join(target, "victim.sock")], apiVersion: "1.0", restart: { quarantineAfter: 5 } }],
    });
    try {
      const linker = await s.waitForPlugin("linker", (p) => p.state === "quarantined");
      expect(linker.reason).toMatch(/the plugin put a symlink in the place of its socket: .*plugin\.sock is not a socket but a symlink: not followed/);
      expect(s.logs.filter((l) => l.plugin === "linker" && l.to === "crashed")).toEqual([]);
      expect(victimConnections).toHaveLength(0);
    } finally {
      await s.cleanup();
    }
  }, 60_000);
});

describe("a plugin's instance directory, nested deeper than PATH_MAX", () => {
  it("is removed with the instance, its uid free again, and its links not followed", async () => {
    const instance = (await supervisor.plugin("deep")).instance!.id;
    const dir = path.join(supervisor.runtimeDir, "instances", instance);
    const { uid } = await lstat(dir);
    const uidLock = path.join(supervisor.runtimeDir, "uids", String(uid));
    expect((await lstat(uidLock)).isFile()).toBe(true);
    expect((await ctl("stop", "deep")).code).toBe(0);
    await expect(lstat(dir)).rejects.toThrow(/ENOENT/);
    await expect(lstat(uidLock)).rejects.toThrow(/ENOENT/);
    expect(supervisor.logs.filter((l) => /not removed/.test(String(l.msg)))).toEqual([]);
    expect(await readFile(path.join(target, "keep"), "utf8")).toBe(ORIGINAL);
  });
});

describe("a supervisor in a mount namespace of its own, as systemd's PrivateTmp= makes", () => {
  it("mounts no tmpfs the host would not see: host applications reach its plugins through their stable addresses, and it warns of the file system", async () => {
    const supervisor = await TestSupervisor.create({
      plugins: [{ name: "echo", binary: path.join(repoRoot, "build/test-plugins/echo"), apiVersion: "1.0" }],
      // A slave of the host's mounts, which shares nothing back: what systemd
      // makes of a service's namespace. The host's side must be shared for
      // that (systemd's is; here a bind mount of the test's directory).
      wrap: ["unshare", "--mount", "--propagation", "slave"],
    });
    await execa("mount", ["--bind", supervisor.dir, supervisor.dir]);
    try {
      await execa("mount", ["--make-shared", supervisor.dir]);
      await supervisor.start();
      const address = (await supervisor.plugin("echo")).address;
      const creds = pluginCredentials("echo", await supervisor.clientPems("host-app", ["echo"]));
      const client = echoClient(address, creds, channelOptions({ retry: false }));
      try {
        const reply = await client.unary({ message: "from the host", sleepMs: 0, replySize: 0 }, { deadlineMs: 5000 });
        expect(reply.reply.message).toBe("from the host");
      } finally {
        client.close();
      }
      expect((await readFile("/proc/self/mountinfo", "utf8")).split("\n").filter((l) => l.includes(supervisor.dir) && l.includes(" - tmpfs corral-instances "))).toEqual([]);
      expect(supervisor.logs.some((l) => l.level === "warn" && l.msg.startsWith("the instance directories are on a file system without nosuid, in a mount namespace of the supervisor's own"))).toBe(true);
      expect((await supervisor.stop("SIGTERM")).code).toBe(0);
    } finally {
      await supervisor.cleanup().catch(() => {});
      await execa("umount", ["-l", supervisor.dir], { reject: false });
      await rm(supervisor.dir, { recursive: true, force: true });
    }
  }, 60_000);

  it("takes over the tmpfs mounted before its start in the host's namespace (the unit's ExecStartPre): its plugins' files are there, and it does not warn", async () => {
    const supervisor = await TestSupervisor.create({
      plugins: [{ name: "echo", binary: path.join(repoRoot, "build/test-plugins/echo"), apiVersion: "1.0" }],
      wrap: ["unshare", "--mount", "--propagation", "slave"],
    });
    const launcher = path.join(repoRoot, "build/bin/corral-sandbox");
    const instances = path.join(supervisor.runtimeDir, "instances");
    await execa("mount", ["--bind", supervisor.dir, supervisor.dir]);
    try {
      await execa("mount", ["--make-shared", supervisor.dir]);
      await mkdir(instances, { recursive: true, mode: 0o711 });
      expect((await execa(launcher, ["instances-fs", "mount", instances])).stdout).toBe("mounted");
      await supervisor.start();
      const instance = (await supervisor.plugin("echo")).instance!;
      // As the host sees it: the instance's directory on Corral's tmpfs.
      const hostMounts = (await readFile("/proc/self/mountinfo", "utf8")).split("\n");
      expect(hostMounts.filter((l) => l.split(" ")[4] === instances && l.includes(" - tmpfs corral-instances "))).toHaveLength(1);
      expect((await execa("stat", ["-f", "-c", "%T", path.join(instances, instance.id)])).stdout).toBe("tmpfs");
      expect(supervisor.logs.filter((l) => l.level === "warn" && String(l.msg).startsWith("the instance directories are on"))).toEqual([]);
      expect((await supervisor.stop("SIGTERM")).code).toBe(0);
    } finally {
      await supervisor.cleanup().catch(() => {});
      await execa(launcher, ["instances-fs", "unmount", instances], { reject: false }); // the unit's ExecStopPost
      await execa("umount", ["-l", supervisor.dir], { reject: false });
      await rm(supervisor.dir, { recursive: true, force: true });
    }
  }, 60_000);
});
