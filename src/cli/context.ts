/** What every CLI command runs with (its own module, so commands and the demo do not import each other). */
export interface CliContext {
  stdout: NodeJS.WritableStream;
  stderr: NodeJS.WritableStream;
  env: Record<string, string | undefined>;
  json: boolean;
  /** Aborted on Ctrl-C: long commands stop cleanly. */
  signal?: AbortSignal;
}
