// A Unix socket file exists from bind(2), but connections are refused until
// listen(2). Waiting for a plain connection to succeed closes that window, so
// the first gRPC call fails only for real reasons (TLS, identity), at once,
// with the reason intact.
import { connect } from "node:net";

export async function waitForListener(socket: string, signal: AbortSignal): Promise<void> {
  for (;;) {
    signal.throwIfAborted();
    const error = await new Promise<NodeJS.ErrnoException | undefined>((resolve) => {
      const probe = connect(socket);
      probe.once("connect", () => {
        probe.destroy();
        resolve(undefined);
      });
      probe.once("error", (err: NodeJS.ErrnoException) => resolve(err));
    });
    if (!error) return;
    if (error.code !== "ECONNREFUSED" && error.code !== "ENOENT") throw error;
    await new Promise((r) => setTimeout(r, 5));
  }
}
