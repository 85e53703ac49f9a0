// `corral`: the daemon's command line (corral-commands.ts). The signals
// are taken care of first (early-signals.ts), and the rest is loaded after:
// loading it takes about a second, in which Node's default handling of a
// SIGHUP would end the daemon, and a SIGUSR1 open Node's inspector.
import "./early-signals.ts";

await import("./corral-commands.ts");
