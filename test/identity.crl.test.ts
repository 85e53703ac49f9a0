// The CRL as other tools read it: openssl (verify, text, -crl_check) and Go's
// crypto/x509, which go-shim uses.

import { execFileSync, spawnSync } from "node:child_process";
import { X509Certificate } from "node:crypto";
import { cp, mkdtemp, readdir, readFile, rm, stat, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { loadOrCreateCA, type CertificateAuthority } from "../supervisor/identity/ca.ts";
import { issueAdminLeaf, issuePluginLeaf, issueSupervisorLeaf, type IssuedLeaf } from "../supervisor/identity/issue.ts";
import { PluginRevocations } from "../client/revocations.ts";
import { readCrl } from "../supervisor/identity/crl.ts";
import { openRegistry, type CertificateRegistry } from "../supervisor/identity/registry.ts";

const TD = "corral.local";
const HOUR = 3600_000;
const DAY = 24 * HOUR;
let root: string;
let ca: CertificateAuthority;

beforeAll(async () => {
  root = await mkdtemp(join(tmpdir(), "corral-crl-test-"));
  ca = await loadOrCreateCA(join(root, "state"), { trustDomain: TD });
});

afterAll(async () => {
  await rm(root, { recursive: true, force: true });
});

const openssl = (...args: string[]): string => execFileSync("openssl", args, { encoding: "utf8", stdio: ["ignore", "pipe", "pipe"] });

/** A state directory of its own holding a copy of the CA, so registries do not share files. */
async function freshState(): Promise<string> {
  const dir = await mkdtemp(join(root, "s-"));
  await cp(join(root, "state"), dir, { recursive: true });
  return dir;
}

let files = 0;
async function save(pem: string): Promise<string> {
  const path = join(root, `f${files++}.pem`);
  await writeFile(path, pem);
  return path;
}

/** Serials and reasons as `openssl crl -text` lists them. */
function listed(crlPath: string): Map<string, string | undefined> {
  const text = openssl("crl", "-in", crlPath, "-noout", "-text");
  const out = new Map<string, string | undefined>();
  const re = /Serial Number: ([0-9A-F]+)\n\s+Revocation Date: [^\n]+\n(?:\s+CRL entry extensions:\n\s+X509v3 CRL Reason Code: *\n\s+([^\n]+)\n)?/g;
  for (const m of text.matchAll(re)) out.set(m[1]!, m[2]?.trim());
  return out;
}

function verifiesWithCrl(leafPath: string, crlPath: string): { ok: boolean; output: string } {
  const r = spawnSync("openssl", ["verify", "-crl_check", "-CAfile", ca.certPath, "-CRLfile", crlPath, leafPath], { encoding: "utf8" });
  return { ok: r.status === 0, output: `${r.stdout}${r.stderr}` };
}

describe("publishCrl", () => {
  let registry: CertificateRegistry;
  let crlPath: string;
  let echo: IssuedLeaf;
  let highBit: IssuedLeaf;
  let kept: IssuedLeaf;
  let admin: IssuedLeaf;

  beforeAll(async () => {
    const state = await freshState();
    registry = await openRegistry(state, ca);
    const opts = { trustDomain: TD, ttlMs: HOUR, registry };
    // 0x80 0x90 ...: the high bit is cleared, leaving 0x00 0x90: a serial DER must pad with a zero byte.
    const forced = (size: number) => Uint8Array.from({ length: size }, (_, i) => [0x80, 0x90][i] ?? 0x5a);
    [echo, highBit, kept, admin] = await Promise.all([
      issuePluginLeaf(ca, { ...opts, plugin: "echo" }),
      issueSupervisorLeaf(ca, { ...opts, random: forced }),
      issuePluginLeaf(ca, { ...opts, plugin: "kv" }),
      issueAdminLeaf(ca, opts, "alice"),
    ]);
    expect(highBit.serialHex).toBe("90" + "5A".repeat(14));
    await registry.revokeSerial(echo.serialHex, { reason: "keyCompromise", note: "laptop stolen" });
    await registry.revokeSerial(highBit.serialHex.toLowerCase(), { reason: "superseded" });
    await registry.revokeIdentity(admin.uri, { note: "left" });
    crlPath = (await registry.publishCrl()).path;
  });

  it("writes a CRL that openssl verifies against the CA", () => {
    const r = spawnSync("openssl", ["crl", "-in", crlPath, "-CAfile", ca.certPath, "-noout", "-verify"], { encoding: "utf8" });
    expect(r.status).toBe(0);
    expect(`${r.stdout}${r.stderr}`).toMatch(/verify OK/);
  });

  it("is an X.509 v2 CRL with the CA as issuer, AKI and a CRL number, listing every revoked serial", () => {
    const text = openssl("crl", "-in", crlPath, "-noout", "-text");
    expect(text).toMatch(/Version 2 \(0x1\)/);
    expect(text).toMatch(/Signature Algorithm: ecdsa-with-SHA256/);
    expect(text).toMatch(/Issuer: CN = Corral CA corral\.local/);
    expect(text).toMatch(/X509v3 CRL Number: *\n\s+1\n/);
    const aki = /X509v3 Authority Key Identifier: *\n\s+(?:keyid:)?([0-9A-F:]+)/.exec(text);
    expect(aki?.[1]?.replaceAll(":", "").toLowerCase()).toBe(ca.keyId.toString("hex"));
    expect(listed(crlPath)).toEqual(
      new Map<string, string | undefined>([
        [echo.serialHex, "Key Compromise"],
        [highBit.serialHex, "Superseded"],
        [admin.serialHex, undefined], // unspecified: reasonCode absent (RFC 5280 5.3.1)
      ]),
    );
  });

  it("makes openssl refuse exactly the revoked leaves with -crl_check", async () => {
    const revoked = verifiesWithCrl(await save(echo.certPem), crlPath);
    expect(revoked.ok).toBe(false);
    expect(revoked.output).toMatch(/certificate revoked/);
    expect(verifiesWithCrl(await save(highBit.certPem), crlPath).ok).toBe(false);
    expect(verifiesWithCrl(await save(kept.certPem), crlPath)).toMatchObject({ ok: true });
  });

  it("is valid for 7 days by default, from now", () => {
    const lastUpdate = new Date(openssl("crl", "-in", crlPath, "-noout", "-lastupdate").trim().replace("lastUpdate=", ""));
    const nextUpdate = new Date(openssl("crl", "-in", crlPath, "-noout", "-nextupdate").trim().replace("nextUpdate=", ""));
    expect(Math.abs(lastUpdate.getTime() - Date.now())).toBeLessThan(60_000);
    expect(nextUpdate.getTime() - lastUpdate.getTime()).toBe(7 * DAY);
  });

  it("is public (0644), the revocation record private (0600), replaced without leftovers", async () => {
    expect((await stat(crlPath)).mode & 0o777).toBe(0o644);
    expect((await stat(registry.paths.revoked)).mode & 0o777).toBe(0o600);
    expect((await stat(registry.paths.issued)).mode & 0o777).toBe(0o600);
    expect((await readdir(join(crlPath, ".."))).filter((f) => f.endsWith(".tmp"))).toEqual([]);
    expect(await readFile(crlPath, "utf8")).toMatch(/^-----BEGIN X509 CRL-----\n[A-Za-z0-9+/=\n]+-----END X509 CRL-----\n$/);
  });

  it("parses in Go (x509.ParseRevocationList) and verifies with CheckSignatureFrom", async (context) => {
    if (spawnSync("go", ["version"]).status !== 0) context.skip();
    const parsed = await parseInGo(crlPath, ca.certPath);
    expect(parsed.number).toBe("1");
    expect(new Map(parsed.entries.map((e) => [e.serial, e.reason]))).toEqual(
      new Map([
        [echo.serialHex, 1],
        [highBit.serialHex, 4],
        [admin.serialHex, 0],
      ]),
    );
  });
});

describe("readCrl (what the Node client library checks plugins against)", () => {
  let pem: string;
  let revoked: string[];
  let caCert: X509Certificate;

  beforeAll(async () => {
    const registry = await openRegistry(await freshState(), ca);
    const opts = { trustDomain: TD, ttlMs: HOUR, registry };
    // 0x80...: the high bit is cleared, leaving a serial DER must pad with a zero byte.
    const forced = (size: number) => Uint8Array.from({ length: size }, (_, i) => [0x80, 0x90][i] ?? 0x5a);
    const leaves = await Promise.all([issuePluginLeaf(ca, { ...opts, plugin: "echo" }), issueSupervisorLeaf(ca, { ...opts, random: forced })]);
    for (const leaf of leaves) await registry.revokeSerial(leaf.serialHex, { reason: "keyCompromise" });
    await registry.publishCrl();
    pem = (await registry.publishCrl()).pem;
    revoked = leaves.map((l) => l.serialHex);
    caCert = new X509Certificate(ca.certPem);
  });

  it("reads the revoked serials, the number and thisUpdate of a CRL the CA signed", () => {
    const crl = readCrl(pem, [caCert]);
    expect(crl.serials).toEqual(new Set(revoked));
    expect(crl.number).toBe(2n);
    expect(Math.abs(crl.thisUpdate.getTime() - Date.now())).toBeLessThan(60_000);
    expect(readCrl(Buffer.from(pem), [caCert]).serials).toEqual(new Set(revoked));
  });

  it("refuses a CRL of another CA, a changed one and anything else, saying why", async () => {
    const other = await loadOrCreateCA(join(root, "other-ca"), { trustDomain: TD });
    expect(() => readCrl(pem, [new X509Certificate(other.certPem)])).toThrow("the CRL is not signed by the CA");
    const der = Buffer.from(pem.replace(/-----[A-Z0-9 ]+-----|\s/g, ""), "base64");
    const changed = Buffer.from(der);
    changed[changed.length - 1]! ^= 1; // the signature's last bit
    expect(() => readCrl(changed, [caCert])).toThrow("the CRL is not signed by the CA");
    expect(() => readCrl("garbage", [caCert])).toThrow("expected one PEM block of type X509 CRL");
    expect(() => readCrl(pem + pem, [caCert])).toThrow("expected one PEM block of type X509 CRL");
    expect(() => readCrl(Buffer.from([0x30, 0x03, 0x02, 0x01]), [caCert])).toThrow(/not a DER CRL/);
  });

  it("reads a CRL that revokes nothing as revoking nothing", async () => {
    const registry = await openRegistry(await freshState(), ca);
    expect(readCrl((await registry.publishCrl()).pem, [caCert]).serials.size).toBe(0);
  });
});

describe("PluginRevocations (the Node client's list in force)", () => {
  it("keeps a revocation when an older list of the CA is served again, and takes a list of another CA (after a CA change) whatever its number", async () => {
    const registry = await openRegistry(await freshState(), ca);
    const leaf = await issuePluginLeaf(ca, { trustDomain: TD, ttlMs: HOUR, registry, plugin: "echo" });
    const older = (await registry.publishCrl()).pem; // number 1, revokes nothing
    await registry.revokeSerial(leaf.serialHex, {});
    const current = (await registry.publishCrl()).pem; // number 2, revokes the leaf
    const dir = await mkdtemp(join(root, "client-crl-"));
    const crlFile = join(dir, "crl.pem");
    const caFile = join(dir, "ca.pem");
    await writeFile(caFile, ca.certPem);
    await writeFile(crlFile, current);
    const revocations = new PluginRevocations(crlFile, { file: caFile });
    expect(() => revocations.check(leaf.serialHex)).toThrow(/is revoked/);
    await writeFile(crlFile, `${older}\n`); // another size: read again
    expect(() => revocations.check(leaf.serialHex)).toThrow(/is revoked/);

    const next = await loadOrCreateCA(join(root, "next-ca"), { trustDomain: TD });
    await writeFile(caFile, next.certPem);
    await writeFile(crlFile, (await (await openRegistry(await freshState(), next)).publishCrl()).pem); // its number 1
    expect(() => revocations.check(leaf.serialHex)).not.toThrow();
  });
});

describe("CRL numbers, validity and expiry", () => {
  it("numbers CRLs monotonically, across restarts", async () => {
    const state = await freshState();
    const first = await openRegistry(state, ca);
    expect((await first.publishCrl()).number).toBe(1n);
    expect((await first.publishCrl()).number).toBe(2n);
    const again = await openRegistry(state, ca);
    const third = await again.publishCrl();
    expect(third.number).toBe(3n);
    expect(openssl("crl", "-in", third.path, "-noout", "-crlnumber").trim()).toBe("crlNumber=0x03");
  });

  it("publishes an empty CRL when nothing is revoked, and it verifies", async () => {
    const registry = await openRegistry(await freshState(), ca);
    const crl = await registry.publishCrl();
    expect(crl.serials).toEqual([]);
    expect(openssl("crl", "-in", crl.path, "-noout", "-text")).toMatch(/No Revoked Certificates\./);
    expect(spawnSync("openssl", ["crl", "-in", crl.path, "-CAfile", ca.certPath, "-noout", "-verify"]).status).toBe(0);
  });

  it("takes its validity from the options", async () => {
    const registry = await openRegistry(await freshState(), ca, { crlValidityMs: HOUR });
    const crl = await registry.publishCrl();
    expect(crl.nextUpdate.getTime() - crl.thisUpdate.getTime()).toBe(HOUR);
    const nextUpdate = openssl("crl", "-in", crl.path, "-noout", "-nextupdate").trim().replace("nextUpdate=", "");
    expect(new Date(nextUpdate)).toEqual(crl.nextUpdate);
  });

  it("drops a revoked certificate once it has expired", async () => {
    let clock = Date.now();
    const registry = await openRegistry(await freshState(), ca, { now: () => clock });
    const opts = { trustDomain: TD, registry, now: () => clock };
    const short = await issuePluginLeaf(ca, { ...opts, plugin: "echo", ttlMs: HOUR });
    const long = await issuePluginLeaf(ca, { ...opts, plugin: "echo", ttlMs: 3 * HOUR });
    await registry.revokeIdentity(short.uri);
    expect((await registry.publishCrl()).serials.sort()).toEqual([short.serialHex, long.serialHex].sort());

    clock += 2 * HOUR; // short has expired, long has not
    const crl = await registry.publishCrl();
    expect(crl.serials).toEqual([long.serialHex]);
    expect([...listed(crl.path).keys()]).toEqual([long.serialHex]);
    expect(registry.isRevoked(short.serialHex)).toBe(false); // no longer recorded: it is expired anyway
    expect(registry.isRevoked(long.serialHex)).toBe(true);
    expect(JSON.parse(await readFile(registry.paths.revoked, "utf8")).serials).toHaveLength(1);
  });
});

interface GoCrl {
  number: string;
  entries: Array<{ serial: string; reason: number }>;
}

const GO_PROGRAM = `package main

import (
	"crypto/x509"
	"encoding/json"
	"encoding/pem"
	"fmt"
	"os"
	"strings"
)

func der(path string) []byte {
	data, err := os.ReadFile(path)
	if err != nil {
		panic(err)
	}
	block, _ := pem.Decode(data)
	if block == nil {
		panic("no PEM block in " + path)
	}
	return block.Bytes
}

func main() {
	ca, err := x509.ParseCertificate(der(os.Args[2]))
	if err != nil {
		fmt.Fprintln(os.Stderr, "CA:", err)
		os.Exit(1)
	}
	crl, err := x509.ParseRevocationList(der(os.Args[1]))
	if err != nil {
		fmt.Fprintln(os.Stderr, "ParseRevocationList:", err)
		os.Exit(1)
	}
	if err := crl.CheckSignatureFrom(ca); err != nil {
		fmt.Fprintln(os.Stderr, "CheckSignatureFrom:", err)
		os.Exit(1)
	}
	type entry struct {
		Serial string \`json:"serial"\`
		Reason int    \`json:"reason"\`
	}
	entries := []entry{}
	for _, e := range crl.RevokedCertificateEntries {
		serial := strings.ToUpper(e.SerialNumber.Text(16))
		if len(serial)%2 == 1 {
			serial = "0" + serial
		}
		entries = append(entries, entry{serial, e.ReasonCode})
	}
	out, _ := json.Marshal(map[string]any{"number": crl.Number.String(), "entries": entries})
	fmt.Println(string(out))
}
`;

/** Runs a small Go program on the CRL: what go-shim's crypto/x509 makes of it. */
async function parseInGo(crlPath: string, caPath: string): Promise<GoCrl> {
  const dir = await mkdtemp(join(root, "go-"));
  await writeFile(join(dir, "main.go"), GO_PROGRAM);
  const r = spawnSync("go", ["run", "main.go", crlPath, caPath], {
    cwd: dir,
    encoding: "utf8",
    env: { ...process.env, GO111MODULE: "off", GOTOOLCHAIN: "local" },
  });
  if (r.status !== 0) throw new Error(`go run failed (${r.status}): ${r.stderr}`);
  return JSON.parse(r.stdout) as GoCrl;
}
