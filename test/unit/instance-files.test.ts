// The files of a new instance directory: modes and owners as go-shim and the
// sandbox expect them, and nothing overwritten.
import { mkdtemp, readFile, rm, stat, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { writeInstanceFiles } from "../../supervisor/plugin/instance-files.ts";

const owner = { uid: 43_210, gid: 43_211 };
const files = { caPem: "CA\n", crlPem: "CRL\n", keyPem: "KEY\n", certPem: "CERT\n" };
let parent: string;
beforeAll(async () => {
  parent = await mkdtemp(path.join(tmpdir(), "corral-instance-files-"));
});
afterAll(async () => {
  await rm(parent, { recursive: true, force: true });
});

describe("writeInstanceFiles", () => {
  it("creates the directory 0711 for the sandbox's uid, the key 0600 and its certificate its own, the CA and CRL root's", async () => {
    const dir = path.join(parent, "instances", "echo-1");
    writeInstanceFiles(dir, owner, files);
    const mode = async (name: string) => {
      const st = await stat(path.join(dir, name));
      return { mode: st.mode & 0o777, uid: st.uid, gid: st.gid };
    };
    expect(await mode("")).toEqual({ mode: 0o711, ...owner });
    expect(await mode("key.pem")).toEqual({ mode: 0o600, ...owner });
    expect(await mode("cert.pem")).toEqual({ mode: 0o644, ...owner });
    expect(await mode("ca.pem")).toEqual({ mode: 0o644, uid: process.getuid!(), gid: process.getgid!() });
    expect(await mode("crl.pem")).toEqual({ mode: 0o644, uid: process.getuid!(), gid: process.getgid!() });
    for (const [name, text] of [["ca.pem", "CA\n"], ["crl.pem", "CRL\n"], ["key.pem", "KEY\n"], ["cert.pem", "CERT\n"]]) {
      expect(await readFile(path.join(dir, name!), "utf8")).toBe(text);
    }
  });

  it("overwrites nothing: a file already there fails the write and keeps its content", async () => {
    const dir = path.join(parent, "instances", "echo-2");
    writeInstanceFiles(dir, owner, files);
    await writeFile(path.join(dir, "key.pem"), "someone else's\n");
    expect(() => writeInstanceFiles(dir, owner, { ...files, keyPem: "NEW\n" })).toThrow(/EEXIST.*ca\.pem/);
    expect(await readFile(path.join(dir, "key.pem"), "utf8")).toBe("someone else's\n");
  });
});
