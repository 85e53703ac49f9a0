// Corral's version: the daemon's (admin Version, the Control handshake) and
// corralctl's, which are built from the same tree.
export const SUPERVISOR_VERSION = "0.1.0";
