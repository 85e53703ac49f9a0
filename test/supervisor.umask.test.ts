// The modes of what the supervisor makes are its own: started with an
// inherited umask of 077 (a unit's UMask=0077), it still gives its plugins
// an instance CA and CRL their sandbox's uid can read, and host
// applications of any uid stable addresses they can reach.
import { readFile, stat } from "node:fs/promises";
import path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { stableAddressPath } from "../supervisor/dataplane/stable-address.ts";
import { echoClient, type EchoClient } from "./helpers/echo.ts";
import { scopedCredentials } from "./helpers/greeter.ts";
import { repoRoot, TestSupervisor } from "./helpers/supervisor.ts";

let supervisor: TestSupervisor;
let client: EchoClient | undefined;

beforeAll(async () => {
  supervisor = await TestSupervisor.start({
    plugins: [{ name: "echo", binary: path.join(repoRoot, "build/test-plugins/echo"), apiVersion: "1.0" }],
    wrap: ["sh", "-c", 'umask 077 && exec "$@"', "sh"],
  });
});

afterAll(async () => {
  client?.close();
  await supervisor?.cleanup();
});

const mode = async (file: string) => ((await stat(file)).mode & 0o7777).toString(8);

describe("a supervisor started with umask 077", () => {
  it("runs with the umask its files' modes are written for", async () => {
    const status = await readFile(`/proc/${supervisor.pid}/status`, "utf8");
    expect(status).toMatch(/^Umask:\s+0022$/m);
  });

  it("starts its plugins, which read their instance CA and CRL, and serves them through a stable address any uid can reach", async () => {
    const plugin = await supervisor.plugin("echo");
    expect(plugin.state).toBe("ready");
    const instanceDir = path.join(supervisor.runtimeDir, "instances", plugin.instance!.id);
    expect(await mode(path.join(instanceDir, "ca.pem"))).toBe("644");
    expect(await mode(path.join(instanceDir, "crl.pem"))).toBe("644");
    expect(await mode(path.join(instanceDir, "key.pem"))).toBe("600");
    const address = stableAddressPath(supervisor.runtimeDir, "echo");
    expect(await mode(path.dirname(address))).toBe("755");
    expect(await mode(path.join(supervisor.runtimeDir, "refusals"))).toBe("711");
    client = echoClient(address, await scopedCredentials(supervisor.stateDir, supervisor.trustDomain, "echo"));
    expect((await client.unary({ message: "umask" })).reply.message).toBe("umask");
  });
});
