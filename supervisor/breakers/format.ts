// How breakers and alerts word numbers in their reasons. Reasons are read by
// operators in `corralctl status` and events, so they use the units an
// operator thinks in, not raw milliseconds and bytes.

/** 250 → "250 ms", 30000 → "30 s", 1500 → "1.5 s", 600000 → "10 min". */
export function formatDuration(ms: number): string {
  if (ms < 1000) return `${round(ms)} ms`;
  if (ms < 120_000) return `${round(ms / 1000)} s`;
  return `${round(ms / 60_000)} min`;
}

/** 97.25 → "97 %": whole percents, since samples are not more exact than that. */
export function formatPercent(percent: number): string {
  return `${Math.round(percent)} %`;
}

/** Bytes in MiB with one decimal, the scale a plugin's heap lives at. */
export function formatMiB(bytes: number): string {
  return `${round(bytes / 1024 ** 2)} MiB`;
}

function round(value: number): number {
  return Math.round(value * 10) / 10;
}
