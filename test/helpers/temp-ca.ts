// A CA of its own in a temp directory, for a unit test file that makes
// certificates and servers: made before its tests, what each test registers
// in `cleanups` undone after it (the last first), the directory removed at
// the end.
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import path from "node:path";
import { afterAll, afterEach, beforeAll } from "vitest";
import { RefusalServer } from "../../supervisor/dataplane/refusal-server.ts";
import { issuePluginLeaf, loadOrCreateCA, type CertificateAuthority } from "../../supervisor/identity/index.ts";

export const TEST_TRUST_DOMAIN = "corral.local";
const HOUR = 3600_000;

export interface TempCa {
  readonly dir: string;
  readonly ca: CertificateAuthority;
  readonly cleanups: (() => Promise<unknown> | void)[];
}

/** Registers the hooks; the returned object's dir and ca are there once the tests run. */
export function useTempCa(prefix: string): TempCa {
  let dir: string | undefined;
  let ca: CertificateAuthority | undefined;
  const cleanups: (() => Promise<unknown> | void)[] = [];
  beforeAll(async () => {
    dir = await mkdtemp(path.join(tmpdir(), prefix));
    ca = await loadOrCreateCA(path.join(dir, "state"), { trustDomain: TEST_TRUST_DOMAIN });
  });
  afterEach(async () => {
    for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
  });
  afterAll(async () => {
    if (dir) await rm(dir, { recursive: true, force: true });
  });
  return {
    get dir() {
      if (!dir) throw new Error("useTempCa: no directory before the tests run");
      return dir;
    },
    get ca() {
      if (!ca) throw new Error("useTempCa: no CA before the tests run");
      return ca;
    },
    cleanups,
  };
}

/** The refusal server of a plugin "greeter" at <dir>/<name>.sock, with a leaf of the CA's, closed by the caller. */
export async function greeterRefusalServer(t: TempCa, name: string): Promise<RefusalServer> {
  const leaf = await issuePluginLeaf(t.ca, { trustDomain: TEST_TRUST_DOMAIN, plugin: "greeter", ttlMs: HOUR });
  return RefusalServer.listen(path.join(t.dir, `${name}.sock`), { caPem: t.ca.certPem, ...leaf }, "plugin greeter is stopped", {
    plugin: "greeter",
    trustDomain: TEST_TRUST_DOMAIN,
    isRevoked: () => false,
  });
}
