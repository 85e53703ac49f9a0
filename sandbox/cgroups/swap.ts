// Whether a plugin's memory limit also holds its swap: only where the
// kernel accounts swap in cgroups, which matters only where there is swap.
import { readFile } from "node:fs/promises";
import type { CgroupDriver } from "./driver.ts";

/** The host's swap space (SwapTotal), 0 when it has none or /proc/meminfo says nothing. */
export async function hostSwapBytes(meminfoFile = "/proc/meminfo"): Promise<number> {
  const meminfo = await readFile(meminfoFile, "utf8").catch(() => "");
  return Number(/^SwapTotal:\s+(\d+) kB$/m.exec(meminfo)?.[1] ?? 0) * 1024;
}

/** Whether plugins could swap beyond their memory limits here: the host has swap, and `cgroups` cannot limit it. */
export async function swapUnlimited(cgroups: Pick<CgroupDriver, "limitsSwap">, meminfoFile?: string): Promise<{ swapBytes: number } | undefined> {
  const swapBytes = await hostSwapBytes(meminfoFile);
  return swapBytes > 0 && !(await cgroups.limitsSwap()) ? { swapBytes } : undefined;
}
