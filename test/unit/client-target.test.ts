// Where the Node client library's connect() goes (client/index.ts): the
// plugin's socket, a relative path made absolute (gRPC would resolve it as a
// host name), or the TCP relay's host:port.
import path from "node:path";
import { describe, expect, it } from "vitest";
import { pluginTarget } from "../../client/index.ts";

describe("the client's target", () => {
  it("is the plugin's socket under the runtime directory, absolute, or the TCP relay's host:port", () => {
    expect(pluginTarget("greeter", {})).toBe("unix:///run/corral/plugins/greeter.sock");
    expect(pluginTarget("greeter", { runtimeDir: "/tmp/corral/run" })).toBe("unix:///tmp/corral/run/plugins/greeter.sock");
    expect(pluginTarget("greeter", { address: "/srv/greeter.sock", runtimeDir: "/ignored" })).toBe("unix:///srv/greeter.sock");
    expect(pluginTarget("greeter", { address: "127.0.0.1:7443" })).toBe("127.0.0.1:7443");
    expect(pluginTarget("greeter", { address: "[::1]:7443" })).toBe("[::1]:7443");
  });

  it("makes a relative runtime directory or socket path absolute, from the working directory", () => {
    expect(pluginTarget("greeter", { runtimeDir: "run" })).toBe(`unix://${path.join(process.cwd(), "run/plugins/greeter.sock")}`);
    expect(pluginTarget("greeter", { address: "greeter.sock" })).toBe(`unix://${path.join(process.cwd(), "greeter.sock")}`);
    expect(pluginTarget("greeter", { address: "../run/plugins/greeter.sock" })).toBe(`unix://${path.resolve("../run/plugins/greeter.sock")}`);
  });
});
