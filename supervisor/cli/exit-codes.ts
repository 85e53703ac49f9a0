// corralctl's exit codes, stable so that scripts can rely on them.
export const ExitCode = {
  ok: 0,
  /** The daemon answered with an error. */
  failed: 1,
  /** The command line was wrong. */
  usage: 2,
  /** The daemon is not running or its socket cannot be reached. */
  unreachable: 3,
  /** The named plugin does not exist. */
  notFound: 4,
  /** The socket or credentials are not permitted. */
  denied: 5,
} as const;
