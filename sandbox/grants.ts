// The rules for a sandbox's read-only grants, as the launcher enforces them
// (sandbox/cmd/corral-sandbox/spec.go, checkGrants): checked here too, so
// that a config breaking them is refused by `corral validate` and a reload,
// naming the field, instead of passing and then failing every start.

/** The sandbox's own mounts: a grant at, above or below one would hide it or be hidden by it. */
export const RESERVED_PATHS = ["/plugin", "/corral", "/tmp", "/proc", "/dev"] as const;
export const MAX_GRANTS = 64;

/** What is wrong with grants[i] among `grants`, or undefined. */
export function grantProblem(grants: readonly string[], i: number): string | undefined {
  const p = grants[i]!;
  if (i >= MAX_GRANTS) return `at most ${MAX_GRANTS} entries`;
  for (const r of RESERVED_PATHS) if (overlaps(p, r)) return `${p} overlaps the sandbox's ${r}`;
  const earlier = grants.slice(0, i).find((q) => overlaps(p, q));
  if (earlier !== undefined) return `${p} overlaps ${earlier}, granted before it: one grant holds the other`;
  return undefined;
}

/** Whether one of two clean absolute paths is the other or lies beneath it. */
function overlaps(a: string, b: string): boolean {
  return a === b || a.startsWith(`${b}/`) || b.startsWith(`${a}/`);
}
