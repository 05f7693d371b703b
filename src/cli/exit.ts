/** Exit codes of the CLI: 0 ok, 1 failed, 2 usage error, 3 configuration error, 4 finished with failed records. */
export const EXIT = { ok: 0, failed: 1, usage: 2, config: 3, partial: 4 } as const;

/** A command line that does not parse. */
export class UsageError extends Error {}
