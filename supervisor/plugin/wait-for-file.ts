// Waits for a file (the plugin's socket) to appear, driven by inotify rather
// than polling, so readiness costs nothing while the plugin starts.
import { watch } from "node:fs";
import { access } from "node:fs/promises";
import path from "node:path";

export async function waitForFile(file: string, signal: AbortSignal): Promise<void> {
  signal.throwIfAborted();
  const dir = path.dirname(file);
  const name = path.basename(file);
  const watcher = watch(dir);
  const onAbort = () => watcher.emit("error", signal.reason);
  signal.addEventListener("abort", onAbort, { once: true });
  try {
    const appeared = new Promise<void>((resolve, reject) => {
      watcher.on("change", (_event, changed) => {
        if (changed === name) resolve();
      });
      watcher.on("error", reject);
    });
    appeared.catch(() => {}); // observed below, unless the file was already there
    // The file may have appeared before the watch began.
    const already = access(file).then(
      () => true,
      () => false,
    );
    if (await already) return;
    await appeared;
  } finally {
    signal.removeEventListener("abort", onAbort);
    watcher.close();
  }
}
