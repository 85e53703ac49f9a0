// A Node host application as the README has it make one: the client
// installed from a checkout (`npm install /path/to/corral`, a link), its
// service's client made with what `corral/client` exports, one call to the
// example greeter through its stable address. A host that loaded its own
// grpc-js made a client class that the credentials of connect()'s copy were
// refused by ("Channel credentials must be a ChannelCredentials object").
import { execa } from "execa";
import { lstat, mkdir, writeFile } from "node:fs/promises";
import path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { corralctl, nodeBin, plugins, repoRoot, TestSupervisor } from "./helpers/supervisor.ts";

let supervisor: TestSupervisor;
beforeAll(async () => {
  supervisor = await TestSupervisor.start({ plugins: [{ name: "greeter", binary: plugins.greeter, apiVersion: "1.0" }] });
}, 60_000);
afterAll(async () => {
  await supervisor?.cleanup();
});

const APP = `import { connect, loadPackageDefinition, loadSync } from "corral/client";
const [proto, credentials, runtimeDir] = process.argv.slice(2);
const { Greeter } = (loadPackageDefinition(loadSync(proto)) as any).corral.examples.greeter.v1;
const greeter = connect("greeter", Greeter, { credentials, runtimeDir });
greeter.SayHello({ name: "linked" }, (err: Error | null, reply: { message: string }) => {
  greeter.close();
  if (err) {
    console.error(err.message);
    process.exit(1);
  }
  console.log(reply.message);
});
`;

describe("the Node client installed as the README says", () => {
  it("calls a plugin through its stable address, with the grpc-js it re-exports", async () => {
    const app = path.join(supervisor.dir, "hostapp");
    const creds = path.join(supervisor.dir, "hostapp-creds");
    await mkdir(app);
    await mkdir(creds);
    const issued = await corralctl(["--config", supervisor.configFile, "certs", "issue", "--role", "client", "--name", "hostapp", "--plugin", "greeter", "--out", creds]);
    expect(issued.code, issued.stderr).toBe(0);
    await writeFile(path.join(app, "package.json"), JSON.stringify({ name: "hostapp", private: true, type: "module" }));
    // A link: nothing to fetch.
    await execa("npm", ["install", "--no-audit", "--no-fund", "--offline", repoRoot], { cwd: app, env: { PATH: `${path.dirname(nodeBin)}:${process.env.PATH}` } });
    expect((await lstat(path.join(app, "node_modules", "corral"))).isSymbolicLink()).toBe(true);
    await writeFile(path.join(app, "app.ts"), APP);
    const run = await execa(nodeBin, ["app.ts", path.join(repoRoot, "examples/greeter/api/greeter.proto"), creds, supervisor.runtimeDir], { cwd: app, reject: false, timeout: 30_000 });
    expect(run.stderr).toBe("");
    expect(run.stdout).toBe("Hello, linked!");
  }, 90_000);
});
