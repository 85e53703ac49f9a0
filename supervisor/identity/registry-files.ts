// The registry's files (registry.ts): what they hold, reading them back with
// every field checked (a damaged file is refused, naming the file, line and
// field), and writing them durably.

import { chmod, open, readFile } from "node:fs/promises";
import { REVOCATION_REASONS, type RevocationReason } from "./crl.ts";
import { appendLineDurably, replaceAtomically } from "./files.ts";
import { normalizeSerialHex } from "./serial.ts";
import { parseSpiffeId, type IdentityKind } from "./spiffe.ts";

export interface IssuedCertificate {
  serialHex: string;
  uri: string;
  kind: IdentityKind;
  name: string;
  /** A client certificate's plugin scope. */
  plugins?: string[];
  notBefore: Date;
  notAfter: Date;
  issuedAt: Date;
}

export interface RevokedSerial {
  serialHex: string;
  revokedAt: Date;
  /** The CRL reasonCode; absent means unspecified. */
  reason?: RevocationReason;
  /** Free text for the record (corralctl's --reason); not in the CRL. */
  note?: string;
  /** When the entry leaves the CRL: the certificate's notAfter, or the CA's for a serial of unknown expiry. */
  notAfter: Date;
  /** The identity, when known. */
  uri?: string;
}

export interface RevokedIdentity {
  uri: string;
  revokedAt: Date;
  reason?: RevocationReason;
  note?: string;
}

export interface RevocationState {
  /** The cRLNumber of the last CRL published (0n: none yet). */
  crlNumber: bigint;
  serials: Map<string, RevokedSerial>;
  identities: Map<string, RevokedIdentity>;
}

/** One line of issued.jsonl, synced before the leaf is handed out. */
export async function appendIssued(path: string, cert: IssuedCertificate): Promise<void> {
  await appendLineDurably(path, JSON.stringify(issuedToJson(cert)), 0o600);
}

/** Replaces issued.jsonl whole with `certs` (a pruning: the records of leaves long expired dropped). */
export async function saveIssued(path: string, certs: Iterable<IssuedCertificate>): Promise<void> {
  const lines = [...certs].map((c) => `${JSON.stringify(issuedToJson(c))}\n`).join("");
  await replaceAtomically(path, lines, 0o600);
}

export async function saveRevoked(path: string, state: RevocationState): Promise<void> {
  await replaceAtomically(path, `${JSON.stringify(revokedToJson(state), null, 2)}\n`, 0o600);
}

export async function loadIssued(path: string): Promise<Map<string, IssuedCertificate>> {
  const issued = new Map<string, IssuedCertificate>();
  let text: string;
  try {
    text = await readFile(path, "utf8");
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === "ENOENT") return issued;
    throw error;
  }
  await chmod(path, 0o600);
  const end = text.lastIndexOf("\n") + 1;
  if (end < text.length) {
    // A crash in the middle of an append left a partial last line: the leaf
    // it recorded was never handed out (recordIssued had not resolved). Cut
    // it, so the next line appended starts a line of its own.
    const handle = await open(path, "r+");
    try {
      await handle.truncate(Buffer.byteLength(text.slice(0, end)));
      await handle.sync();
    } finally {
      await handle.close();
    }
  }
  text.slice(0, end).split("\n").forEach((line, i) => {
    if (line.trim() === "") return;
    const cert = issuedFromJson(parseJson(line, `${path}:${i + 1}`), `${path}:${i + 1}`);
    issued.set(cert.serialHex, cert);
  });
  return issued;
}

export async function loadRevoked(path: string): Promise<RevocationState> {
  let text: string;
  try {
    text = await readFile(path, "utf8");
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === "ENOENT") return { crlNumber: 0n, serials: new Map(), identities: new Map() };
    throw error;
  }
  return revokedFromJson(parseJson(text, path), path);
}

function parseJson(text: string, where: string): unknown {
  try {
    return JSON.parse(text) as unknown;
  } catch (error) {
    throw new Error(`${where}: not JSON: ${(error as Error).message}`, { cause: error });
  }
}

interface IssuedJson {
  serialHex: string;
  uri: string;
  kind: IdentityKind;
  name: string;
  plugins?: string[];
  notBefore: string;
  notAfter: string;
  issuedAt: string;
}

function issuedToJson(c: IssuedCertificate): IssuedJson {
  return {
    serialHex: c.serialHex,
    uri: c.uri,
    kind: c.kind,
    name: c.name,
    ...(c.plugins ? { plugins: c.plugins } : {}),
    notBefore: c.notBefore.toISOString(),
    notAfter: c.notAfter.toISOString(),
    issuedAt: c.issuedAt.toISOString(),
  };
}

/** Field readers for the JSON files: each names the file (and line) and the field that is wrong. */
function fields(value: unknown, where: string) {
  if (typeof value !== "object" || value === null || Array.isArray(value)) throw new Error(`${where}: expected a JSON object`);
  const record = value as Record<string, unknown>;
  const fail = (key: string, what: string): never => {
    throw new Error(`${where}: field ${key} must be ${what}`);
  };
  const optionalString = (key: string): string | undefined => {
    const v = record[key];
    return v === undefined ? undefined : typeof v === "string" ? v : fail(key, "a string");
  };
  const string = (key: string): string => optionalString(key) ?? fail(key, "a string");
  const date = (key: string): Date => {
    const d = new Date(string(key));
    return Number.isNaN(d.getTime()) ? fail(key, "an ISO date") : d;
  };
  const serial = (key: string): string => normalizeSerialHex(string(key)) ?? fail(key, "a hex serial");
  const reason = (key: string): RevocationReason | undefined => {
    const r = optionalString(key);
    if (r === undefined) return undefined;
    return r in REVOCATION_REASONS ? (r as RevocationReason) : fail(key, `one of ${Object.keys(REVOCATION_REASONS).join(", ")}`);
  };
  const array = (key: string): unknown[] => {
    const v = record[key];
    return Array.isArray(v) ? (v as unknown[]) : fail(key, "an array");
  };
  return { record, optionalString, string, date, serial, reason, array, fail };
}

function issuedFromJson(value: unknown, where: string): IssuedCertificate {
  const f = fields(value, where);
  const uri = f.string("uri");
  const id = parseSpiffeId(uri) ?? f.fail("uri", "a Corral SPIFFE ID");
  const plugins = f.record.plugins === undefined ? undefined : f.array("plugins");
  if (plugins && !plugins.every((p) => typeof p === "string")) f.fail("plugins", "an array of strings");
  return {
    serialHex: f.serial("serialHex"),
    uri,
    kind: id.kind,
    name: id.name,
    ...(plugins ? { plugins: plugins as string[] } : {}),
    notBefore: f.date("notBefore"),
    notAfter: f.date("notAfter"),
    issuedAt: f.date("issuedAt"),
  };
}

function revokedToJson(state: RevocationState) {
  const why = (r: { reason?: RevocationReason; note?: string }) => ({
    ...(r.reason !== undefined ? { reason: r.reason } : {}),
    ...(r.note !== undefined ? { note: r.note } : {}),
  });
  return {
    version: 1,
    crlNumber: state.crlNumber.toString(),
    serials: [...state.serials.values()].map((r) => ({
      serialHex: r.serialHex,
      revokedAt: r.revokedAt.toISOString(),
      ...why(r),
      notAfter: r.notAfter.toISOString(),
      ...(r.uri !== undefined ? { uri: r.uri } : {}),
    })),
    identities: [...state.identities.values()].map((r) => ({ uri: r.uri, revokedAt: r.revokedAt.toISOString(), ...why(r) })),
  };
}

function revokedFromJson(value: unknown, path: string): RevocationState {
  const f = fields(value, path);
  if (f.record.version !== 1) f.fail("version", "1");
  const crlNumber = f.string("crlNumber");
  if (!/^(0|[1-9][0-9]*)$/.test(crlNumber)) f.fail("crlNumber", "a decimal number");
  const serials = new Map<string, RevokedSerial>();
  f.array("serials").forEach((item, i) => {
    const s = fields(item, `${path}: serials[${i}]`);
    const uri = s.optionalString("uri");
    const reason = s.reason("reason");
    const note = s.optionalString("note");
    const entry: RevokedSerial = {
      serialHex: s.serial("serialHex"),
      revokedAt: s.date("revokedAt"),
      ...(reason !== undefined ? { reason } : {}),
      ...(note !== undefined ? { note } : {}),
      notAfter: s.date("notAfter"),
      ...(uri !== undefined ? { uri } : {}),
    };
    serials.set(entry.serialHex, entry);
  });
  const identities = new Map<string, RevokedIdentity>();
  f.array("identities").forEach((item, i) => {
    const s = fields(item, `${path}: identities[${i}]`);
    const reason = s.reason("reason");
    const note = s.optionalString("note");
    const entry: RevokedIdentity = {
      uri: s.string("uri"),
      revokedAt: s.date("revokedAt"),
      ...(reason !== undefined ? { reason } : {}),
      ...(note !== undefined ? { note } : {}),
    };
    identities.set(entry.uri, entry);
  });
  return { crlNumber: BigInt(crlNumber), serials, identities };
}
