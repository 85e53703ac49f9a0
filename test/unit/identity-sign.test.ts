// Signing leaves with the CA's key: off the event loop, and the same
// certificate as signed on it.
import { X509Certificate } from "node:crypto";
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { encodeName, signCertificate, signCertificateOffLoop, spkiDer, subjectAltName, type CertificateSpec } from "../../supervisor/identity/certificate.ts";
import { generateLeafKey, loadOrCreateCA, type CertificateAuthority } from "../../supervisor/identity/index.ts";
import { children, fromDer, toDer } from "../../supervisor/identity/der.ts";
import { OID } from "../../supervisor/identity/oids.ts";

let dir: string;
let ca: CertificateAuthority;
let spec: CertificateSpec;
beforeAll(async () => {
  dir = await mkdtemp(path.join(tmpdir(), "corral-sign-"));
  ca = await loadOrCreateCA(path.join(dir, "state"), { trustDomain: "corral.local" });
  const key = await generateLeafKey();
  spec = {
    serial: Buffer.from("01020304", "hex"),
    issuer: ca.subject,
    subject: encodeName([[OID.commonName, "echo"]]),
    notBefore: new Date("2030-01-01T00:00:00Z"),
    notAfter: new Date("2030-01-02T00:00:00Z"),
    spki: spkiDer(key.publicKey),
    extensions: [subjectAltName("spiffe://corral.local/plugin/echo")],
  };
});
afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

describe("signCertificateOffLoop", () => {
  it("lets the event loop turn while the CA's key signs", async () => {
    const order: string[] = [];
    setImmediate(() => order.push("loop turned"));
    await Promise.all(Array.from({ length: 8 }, () => signCertificateOffLoop(spec, ca.privateKey).then(() => order.push("signed"))));
    expect(order[0]).toBe("loop turned");
    expect(order.filter((o) => o === "signed")).toHaveLength(8);
  });

  it("signs the certificate signCertificate signs, verifiable with the CA's key (ECDSA P-256)", async () => {
    const { der, pem } = await signCertificateOffLoop(spec, ca.privateKey);
    const onLoop = signCertificate(spec, ca.privateKey);
    // ECDSA signatures are randomized: the signed parts are the same.
    const [tbs, algorithm] = children(fromDer(der));
    const [onLoopTbs, onLoopAlgorithm] = children(fromDer(onLoop.der));
    expect(toDer(tbs!)).toEqual(toDer(onLoopTbs!));
    expect(toDer(algorithm!)).toEqual(toDer(onLoopAlgorithm!));
    const caKey = new X509Certificate(ca.certPem).publicKey;
    expect(new X509Certificate(pem).verify(caKey)).toBe(true);
    expect(new X509Certificate(onLoop.pem).verify(caKey)).toBe(true);
  });

  it("signs the same certificate as signCertificate with an RSA CA made before", async () => {
    const rsa = await loadOrCreateCA(path.join(dir, "rsa-state"), { trustDomain: "corral.local", keyType: "rsa-3072" });
    const rsaSpec = { ...spec, issuer: rsa.subject };
    const { der, pem } = await signCertificateOffLoop(rsaSpec, rsa.privateKey);
    expect(der.equals(signCertificate(rsaSpec, rsa.privateKey).der)).toBe(true); // RSA PKCS#1 v1.5 signatures are deterministic
    expect(new X509Certificate(pem).verify(new X509Certificate(rsa.certPem).publicKey)).toBe(true);
  });
});
