// Putting a revocation in force, once the registry has recorded it: the
// CRL to every running instance, and new certificates (or an end) for
// instances whose own was revoked.
import type { Logger } from "./log.ts";
import type { PluginInstance } from "./plugin/instance.ts";
import type { Trust } from "./trust.ts";

/**
 * Puts a revocation in force within a second: the CRL reaches every instance
 * (written into its directory, and go-shim told to read it: it closes
 * revoked peers' connections), and instances whose own certificate was
 * revoked get a new one and a fresh Control channel. A revoked plugin
 * identity is not re-issued: every instance of it is stopped, whatever
 * certificate it has, and quarantined by the refusal when it restarts, as are those
 * of a revoked operator-provided certificate, which Corral cannot replace.
 */
export async function enforceRevocation(trust: Trust, running: () => PluginInstance[], serials: string[], log: Logger): Promise<void> {
  const published = await trust.publishCrl();
  const revoked = new Set(serials);
  // The supervisor's own certificate first, so that the Control channels
  // the instances close on reading the list connect again with its
  // successor. Its open connections carry the revoked one: an instance that
  // reads the list closes the very connection that told it to, and that is
  // the list in force, not a failure to tell it.
  const ownRevoked = revoked.has(trust.leaf.current.serialHex);
  if (ownRevoked) {
    // A renewal that fails (a full disk) holds up nothing else: the list
    // still reaches the instances, and revoked instances still end.
    await trust.leaf.rotate().then(
      (renewed) => log.info({ serial: renewed.serialHex, notAfter: renewed.notAfter }, "renewed the supervisor's certificate: its serial was revoked"),
      (err: Error) => {
        log.error({ err: err.message }, "renewing the supervisor's revoked certificate failed: instances refuse its new Control connections until it is renewed; tried again each minute");
        trust.leaf.renewSoon();
      },
    );
  }
  // Taken once the new CRL is what new instances get: an instance that is
  // not among these was given it when it was made (or takes it when ready).
  const instances = running();
  await Promise.all(instances.map((i) => i.takeCrl({ ...published, revokesSupervisor: ownRevoked })));
  await Promise.all(
    instances.map(async (instance) => {
      // By identity first: every instance of a revoked plugin identity ends,
      // whatever certificate it serves with.
      if (trust.registry.isIdentityRevoked(instance.identity)) return instance.destroy();
      if (!instance.certificateSerial || !revoked.has(instance.certificateSerial)) return;
      // Draining: it ends within its stopTimeout; a new certificate would serve nothing.
      if (instance.stopping) return;
      // A certificate Corral cannot replace (an operator's, now revoked)
      // ends the instance; its next start is refused for the same reason.
      await instance.rotateCertificate().catch(async (err: Error) => {
        log.error({ instance: instance.id, err: err.message }, "a revoked certificate could not be replaced: the instance is stopped");
        await instance.destroy();
      });
    }),
  );
}
