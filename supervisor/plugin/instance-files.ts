// The files of a new instance directory: the CA, the CRL and the instance's
// key and certificate, which go-shim reads when it starts.
//
// Written synchronously, on purpose. The plugin's start waits for them (the
// launcher gets its spec once they are there), they are four small files in
// a directory no one else knows yet, and they live in the runtime
// directory, a tmpfs under systemd. Asynchronously, each of the dozen calls
// in sequence was a round trip through libuv's thread pool. Measured, 200
// directories each: on tmpfs 0.06 ms synchronously against 0.85 ms through
// the pool; on ext4 (a runtime directory on disk) 1.1-1.5 ms against 2.0,
// the event loop held for that long. What changes these files later (a
// renewed certificate, a new CRL) replaces them whole, asynchronously,
// under go-shim reading them (replace-file.ts).
import { chownSync, closeSync, fchownSync, mkdirSync, openSync, writeSync } from "node:fs";
import path from "node:path";

export interface InstanceFiles {
  caPem: string;
  crlPem: string;
  keyPem: string;
  certPem: string;
}

/**
 * Creates the instance directory `dir` (0711, owned by `owner`) with its
 * files. Fails, leaving what it made for the caller to remove, if any of
 * them exists already.
 */
export function writeInstanceFiles(dir: string, owner: { uid: number; gid: number }, files: InstanceFiles): void {
  // 0711: the plugin inside, running as root of its user namespace, owns it; others need nothing here (host
  // applications reach the data socket as published, beside it); key.pem itself is 0600.
  mkdirSync(dir, { recursive: true, mode: 0o711 });
  chownSync(dir, owner.uid, owner.gid);
  create(path.join(dir, "ca.pem"), files.caPem, 0o644);
  create(path.join(dir, "crl.pem"), files.crlPem, 0o644);
  create(path.join(dir, "key.pem"), files.keyPem, 0o600, owner);
  create(path.join(dir, "cert.pem"), files.certPem, 0o644, owner);
}

function create(file: string, text: string, mode: number, owner?: { uid: number; gid: number }): void {
  const fd = openSync(file, "wx", mode);
  try {
    if (owner) fchownSync(fd, owner.uid, owner.gid);
    writeSync(fd, text);
  } finally {
    closeSync(fd);
  }
}
