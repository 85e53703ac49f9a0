// Durations and sizes as operators write them in YAML ("500ms", "30s",
// "128MiB"). Strict on purpose: a typo must be an error, not a default.

const durationUnits: Record<string, number> = { ms: 1, s: 1000, m: 60_000, h: 3_600_000, d: 86_400_000 };
const sizeUnits: Record<string, number> = {
  B: 1,
  KiB: 1024,
  MiB: 1024 ** 2,
  GiB: 1024 ** 3,
  KB: 1000,
  MB: 1000 ** 2,
  GB: 1000 ** 3,
};

const durationPattern = /^(\d+(?:\.\d+)?)(ms|s|m|h|d)$/;
const sizePattern = /^(\d+(?:\.\d+)?)\s*(B|KiB|MiB|GiB|KB|MB|GB)$/;

/** Parses "250ms", "1.5s", "2m", "24h", "7d" into milliseconds, or returns an error message. */
export function parseDuration(text: string): number | Error {
  const match = durationPattern.exec(text.trim());
  if (!match) return new Error(`"${text}" is not a duration (use e.g. 500ms, 30s, 2m, 24h, 7d)`);
  return Math.round(Number(match[1]) * durationUnits[match[2]!]!);
}

/** Parses "16MiB", "512KiB", "1GB" into bytes, or returns an error message. */
export function parseSize(text: string): number | Error {
  const match = sizePattern.exec(text.trim());
  if (!match) return new Error(`"${text}" is not a size (use e.g. 128MiB, 512KiB, 1GiB)`);
  const bytes = Math.floor(Number(match[1]) * sizeUnits[match[2]!]!);
  // Beyond 2^53 bytes a number is no longer exact, and is written to cgroup files as 1e+21.
  if (!Number.isSafeInteger(bytes)) return new Error(`"${text}" is too large a size`);
  return bytes;
}

export function formatBytes(bytes: number): string {
  for (const [unit, size] of [["GiB", 1024 ** 3], ["MiB", 1024 ** 2], ["KiB", 1024]] as const) {
    if (bytes >= size && bytes % size === 0) return `${bytes / size}${unit}`;
  }
  return `${bytes}B`;
}
