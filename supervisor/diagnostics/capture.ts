// Takes an instance's evidence through its Control channel: a CPU profile
// (optional, first, while the plugin still runs), a goroutine dump and a heap
// profile, each bounded in time and size, into the diagnostics store.
import type { Logger } from "../log.ts";
import type { ControlChannel } from "../plugin/control-channel.ts";
import type { DiagnosticsStore } from "./store.ts";

const MAX_PROFILE_BYTES = 16 * 1024 * 1024;

/** Resolves with the files written; a profile that fails is logged and skipped. */
export async function captureDiagnostics(options: {
  channel: ControlChannel;
  store: DiagnosticsStore;
  plugin: string;
  instance: string;
  log: Logger;
  why: string;
  cpuMs?: number;
}): Promise<string[]> {
  const { channel, store, plugin, instance, log } = options;
  const files: string[] = [];
  const take = async (kind: "GOROUTINE" | "HEAP" | "CPU", name: string, durationMs?: number) => {
    try {
      const { data, truncated } = await channel.profile(kind, { ...(durationMs && { durationMs }), maxBytes: MAX_PROFILE_BYTES });
      // Kept cut, and named so: the first MAX_PROFILE_BYTES of a goroutine dump still say the most.
      files.push(await store.save(plugin, instance, truncated ? `${name}.truncated` : name, data));
      if (truncated) log.warn({ kind, bytes: data.length }, "the profile was cut at its size bound; kept as it is");
    } catch (err) {
      log.warn({ kind, err: (err as Error).message }, "capturing diagnostics failed");
    }
  };
  if (options.cpuMs) await take("CPU", "cpu.pprof", options.cpuMs);
  await take("GOROUTINE", "goroutines.txt");
  await take("HEAP", "heap.pprof");
  log.warn({ why: options.why, files }, "captured diagnostics");
  return files;
}
