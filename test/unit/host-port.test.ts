// mayShareAPort: which two listeners' addresses config validation and a TCP
// move take for one port. The pairs of this host's addresses were checked
// with two listen()s here: 0.0.0.0 beside ::1 binds both; :: beside
// 127.0.0.1, localhost beside 127.0.0.1 and 0.0.0.0 beside 127.0.0.1 fail
// the second with EADDRINUSE.
import { describe, expect, it } from "vitest";
import { mayShareAPort, shareAPort } from "../../supervisor/host-port.ts";

describe("shareAPort (config validation)", () => {
  it("takes the same host, every host, and localhost beside loopback for one port", () => {
    for (const [a, b] of [
      ["127.0.0.1:7443", "127.0.0.1:7443"],
      ["0.0.0.0:7443", "127.0.0.1:7443"],
      ["0.0.0.0:7443", "api.internal:7443"],
      ["[::]:7443", "127.0.0.1:7443"],
      ["[::]:7443", "[::1]:7443"],
      ["localhost:7443", "127.0.0.1:7443"],
    ]) {
      expect(shareAPort(a!, b!), `${a} ${b}`).toBe(true);
      expect(shareAPort(b!, a!), `${b} ${a}`).toBe(true);
      expect(mayShareAPort(a!, b!), `${a} ${b}`).toBe(true);
    }
  });

  it("takes other ports, port 0, two names, a name and an address, and 0.0.0.0 beside an IPv6 address apart", () => {
    for (const [a, b] of [
      ["127.0.0.1:7443", "127.0.0.1:7444"],
      ["127.0.0.1:0", "127.0.0.1:0"],
      ["api-a.internal:7443", "api-b.internal:7443"],
      ["api.internal:7443", "10.0.0.5:7443"],
      ["0.0.0.0:7443", "[::1]:7443"],
      ["127.0.0.1:7443", "127.0.0.2:7443"],
      // Bound together here: localhost is 127.0.0.1.
      ["localhost:7443", "127.0.0.2:7443"],
      ["localhost:7443", "[::1]:7443"],
    ]) {
      expect(shareAPort(a!, b!), `${a} ${b}`).toBe(false);
      expect(shareAPort(b!, a!), `${b} ${a}`).toBe(false);
    }
  });
});

describe("mayShareAPort (a listener that moves)", () => {
  it("takes a name beside any host on the port for a possible overlap; two addresses as shareAPort does", () => {
    expect(mayShareAPort("127.0.0.1:7443", "vm:7443")).toBe(true);
    expect(mayShareAPort("api-a.internal:7443", "api-b.internal:7443")).toBe(true);
    expect(mayShareAPort("127.0.0.1:7443", "127.0.0.2:7443")).toBe(false);
    expect(mayShareAPort("0.0.0.0:7443", "[::1]:7443")).toBe(false);
    expect(mayShareAPort("vm:7443", "vm:7444")).toBe(false);
  });
});
