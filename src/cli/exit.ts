/**
 * Exit codes of the CLI: 0 ok, 1 failed, 2 usage error, 3 configuration error, 4 finished with failed
 * records, 5 a resource was not synced because another run was importing it (`IMPORT_ALREADY_RUNNING`)
 * and nothing else failed, 130 interrupted by Ctrl-C / SIGTERM (128 + SIGINT, as shells report it).
 */
export const EXIT = { ok: 0, failed: 1, usage: 2, config: 3, partial: 4, busy: 5, interrupted: 130 } as const;

/** A command line that does not parse. */
export class UsageError extends Error {}
