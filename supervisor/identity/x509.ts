// Reads the parts of an X.509 certificate Corral needs, with forge.asn1 and no
// use of forge's Certificate API: that API throws on any non-RSA key and on
// any extension OID with an arc above 2^53, and a peer's certificate may have
// either.

import { bytes, children, fromDer, isContext, isUniversal, readOid, readTime, toDer, Type, type Asn1 } from "./der.ts";

export interface DecodedExtension {
  oid: string;
  critical: boolean;
  /** Content of extnValue: the DER of the extension's value. */
  value: Buffer;
}

export interface DecodedCertificate {
  serial: Buffer;
  issuer: Buffer;
  subject: Buffer;
  /** Attributes of the subject, in order (type OID, raw value node). */
  subjectAttributes: Array<{ oid: string; value: Asn1 }>;
  notBefore: Date;
  notAfter: Date;
  spki: Buffer;
  extensions: DecodedExtension[];
}

function need<T>(value: T | undefined, what: string): T {
  if (value === undefined) throw new Error(`missing ${what}`);
  return value;
}

export function decodeCertificate(der: Buffer): DecodedCertificate {
  const cert = fromDer(der);
  if (!isUniversal(cert, Type.SEQUENCE)) throw new Error("not a SEQUENCE");
  const tbs = need(children(cert)[0], "TBSCertificate");
  if (!isUniversal(tbs, Type.SEQUENCE)) throw new Error("TBSCertificate is not a SEQUENCE");
  const parts = children(tbs);
  let i = isContext(parts[0], 0) ? 1 : 0; // version is optional (v1)
  const serial = need(parts[i++], "serialNumber");
  if (!isUniversal(serial, Type.INTEGER)) throw new Error("serialNumber is not an INTEGER");
  i++; // signature AlgorithmIdentifier
  const issuer = need(parts[i++], "issuer");
  const validity = children(need(parts[i++], "validity"));
  const subject = need(parts[i++], "subject");
  const spki = need(parts[i++], "subjectPublicKeyInfo");
  const extensionsField = parts.slice(i).find((p) => isContext(p, 3));

  const extensions: DecodedExtension[] = [];
  if (extensionsField) {
    for (const ext of children(need(children(extensionsField)[0], "extensions"))) {
      const [id, second, third] = children(ext);
      const critical = isUniversal(second, Type.BOOLEAN) ? bytes(second)[0] !== 0 : false;
      const value = isUniversal(second, Type.BOOLEAN) ? third : second;
      if (!isUniversal(value, Type.OCTETSTRING)) throw new Error("extension value is not an OCTET STRING");
      extensions.push({ oid: readOid(need(id, "extension id")), critical, value: bytes(value) });
    }
  }

  const subjectAttributes = children(subject).flatMap((rdn) =>
    children(rdn).map((atv) => {
      const [type, value] = children(atv);
      return { oid: readOid(need(type, "attribute type")), value: need(value, "attribute value") };
    }),
  );

  return {
    serial: bytes(serial),
    issuer: toDer(issuer),
    subject: toDer(subject),
    subjectAttributes,
    notBefore: readTime(need(validity[0], "notBefore")),
    notAfter: readTime(need(validity[1], "notAfter")),
    spki: toDer(spki),
    extensions,
  };
}

/** DER from a PEM CERTIFICATE block, or the bytes as they are. */
export function certificateDer(cert: Buffer | string): Buffer {
  if (Buffer.isBuffer(cert)) return cert;
  const m = /-----BEGIN CERTIFICATE-----([A-Za-z0-9+/=\s]+)-----END CERTIFICATE-----/.exec(cert);
  if (!m) throw new Error("no PEM CERTIFICATE block");
  return Buffer.from(m[1]!.replace(/\s+/g, ""), "base64");
}
