#!/usr/bin/env node
/**
 * The `shopify-ingest` command. Exit codes: 0 ok, 1 failed, 2 usage error, 3 configuration error,
 * 4 finished but some records failed (see `shopify-ingest failures`), 5 skipped (another run held
 * the lock), 130 interrupted.
 */
import { existsSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs, type ParseArgsConfig } from 'node:util';
import { ConfigError, ShopifyIngestError } from '../errors.js';
import { runCommand, type CliContext } from './commands.js';
import { checkConfiguration } from './config-check.js';
import { EXIT, UsageError } from './exit.js';
import { COMMANDS, GLOBAL_FLAGS, GROUPS, USAGE, closest, commandHelp, findCommand, groupHelp, type CommandSpec, type FlagSpec } from './spec.js';

export { EXIT, UsageError, USAGE };

/** Where `main` writes, reads its environment from, and whether it owns SIGINT/SIGTERM. */
export interface MainContext extends Partial<Omit<CliContext, 'json' | 'signal'>> {
  /**
   * Handle Ctrl-C (SIGINT) and SIGTERM: the first stops the running import cleanly (recorded as
   * cancelled, lock released, checkpoint kept), a second exits at once. The bin turns it on.
   */
  handleSignals?: boolean;
}

/** The package's version, from its package.json (found upwards from this file: src/ or dist/). */
export function packageVersion(): string {
  let dir = path.dirname(fileURLToPath(import.meta.url));
  for (let i = 0; i < 5; i++) {
    const file = path.join(dir, 'package.json');
    if (existsSync(file)) {
      const pkg = JSON.parse(readFileSync(file, 'utf8')) as { name?: string; version?: string };
      if (pkg.name === 'shopify-ingest' && pkg.version) return pkg.version;
    }
    dir = path.dirname(dir);
  }
  return 'unknown';
}

type ParseOptions = NonNullable<ParseArgsConfig['options']>;

function parseOptionsOf(flags: Record<string, FlagSpec>): ParseOptions {
  const options: ParseOptions = {};
  for (const [name, flag] of Object.entries(flags)) options[name] = flag.short ? { type: flag.type, short: flag.short } : { type: flag.type };
  return options;
}

/** Every flag of every command: a first, lenient pass only needs to know which flags take a value. */
const ALL_FLAGS: Record<string, FlagSpec> = Object.assign({}, GLOBAL_FLAGS, ...COMMANDS.map((c) => c.flags));

/** `--batchsize` → `unknown option --batchsize for sync (did you mean --batch-size?)`. */
function unknownOptionMessage(error: Error, spec: CommandSpec | undefined): string {
  const flag = /'(-{1,2}[^']+)'/.exec(error.message)?.[1] ?? '';
  const known = Object.keys({ ...(spec?.flags ?? {}), ...GLOBAL_FLAGS });
  const suggestion = flag.startsWith('--') ? closest(flag.slice(2).split('=')[0]!, known) : undefined;
  const where = spec ? ` for ${spec.name}` : '';
  const elsewhere = !suggestion && flag.startsWith('--') ? COMMANDS.filter((c) => flag.slice(2) in c.flags).map((c) => c.name) : [];
  return `unknown option ${flag || error.message}${where}`
    + (suggestion ? ` (did you mean --${suggestion}?)` : '')
    + (elsewhere.length ? ` (it belongs to: ${elsewhere.join(', ')})` : '')
    + `\nRun \`shopify-ingest ${spec?.name ?? ''}${spec ? ' ' : ''}--help\` for the options.`;
}

/**
 * Runs the CLI with `argv` (without `node` and the script) and returns the exit code.
 *
 * @example
 * ```ts
 * const code = await main(['status', '--json'], { env: { ...process.env, DATABASE_URL: 'postgresql://localhost/app' } });
 * ```
 */
export async function main(argv: string[] = process.argv.slice(2), context: MainContext = {}): Promise<number> {
  const stdout = context.stdout ?? process.stdout;
  const stderr = context.stderr ?? process.stderr;
  const env = context.env ?? process.env;

  // Pass 1, lenient: which command is it, and was --help or --version asked for?
  const loose = parseArgs({ args: argv, allowPositionals: true, strict: false, options: parseOptionsOf(ALL_FLAGS) });
  const positionals = loose.positionals;
  if (loose.values.version) {
    stdout.write(`${packageVersion()}\n`);
    return EXIT.ok;
  }
  if (positionals[0] === 'help') {
    // `shopify-ingest help sync` = `shopify-ingest sync --help`
    return main([...positionals.slice(1), '--help'], context);
  }
  if (positionals[0] === 'simulator') return runSimulator(argv.slice(argv.indexOf('simulator') + 1), stdout, stderr);
  // With --json, a usage error is also one JSON object on stdout (code CLI_USAGE), as every other outcome is.
  const usage = (message: string, help: string) => usageError(message, help, { stdout, stderr, json: loose.values.json === true });
  if (positionals.length === 0) {
    // No command is a usage error: the help goes to stderr then, so a script's stdout stays empty (or holds the JSON error).
    if (loose.values.help) { stdout.write(USAGE); return EXIT.ok; }
    return usage('no command given', USAGE);
  }
  const found = findCommand(positionals);
  if (!found) {
    const [first, second] = positionals;
    if (first !== undefined && GROUPS[first]) {
      if (loose.values.help && second === undefined) { stdout.write(groupHelp(first)); return EXIT.ok; }
      const hint = second !== undefined ? closest(second, GROUPS[first]!) : undefined;
      return usage(`${second === undefined ? `${first}: which one?` : `unknown command: ${first} ${second}`}${hint ? ` (did you mean ${first} ${hint}?)` : ''}`, groupHelp(first));
    }
    const names = [...new Set(COMMANDS.map((c) => c.name.split(' ')[0]!)), 'help'];
    const hint = closest(first!, names);
    return usage(`unknown command: ${first}${hint ? ` (did you mean ${hint}?)` : ''}`, USAGE);
  }
  const { spec } = found;
  if (loose.values.help) {
    stdout.write(commandHelp(spec));
    return EXIT.ok;
  }

  // Pass 2, strict: only this command's flags.
  let values: Record<string, string | boolean | undefined>;
  try {
    values = parseArgs({ args: argv, allowPositionals: true, strict: true, options: parseOptionsOf({ ...GLOBAL_FLAGS, ...spec.flags }) }).values as Record<string, string | boolean | undefined>;
  } catch (error) {
    const code = String((error as { code?: string }).code ?? '');
    const message = code === 'ERR_PARSE_ARGS_UNKNOWN_OPTION' ? unknownOptionMessage(error as Error, spec) : `${(error as Error).message}\nRun \`shopify-ingest ${spec.name} --help\` for the options.`;
    return usage(message, '');
  }
  const json = Boolean(values.json);

  // Configuration before anything opens: every problem at once, exit 3, within milliseconds.
  try {
    checkConfiguration(spec, values, env);
  } catch (error) {
    return report(error, { stdout, stderr, json });
  }

  const controller = new AbortController();
  const ctx: CliContext = { stdout, stderr, env, json, signal: controller.signal };
  // Only commands that stop cleanly on the signal take it over; the others keep Node's default (exit at once).
  const release = context.handleSignals && INTERRUPTIBLE.has(spec.name) ? handleSignals(controller, stderr) : () => {};
  try {
    const code = await runCommand(positionals, values, ctx);
    return controller.signal.aborted && code !== EXIT.ok ? EXIT.interrupted : code;
  } catch (error) {
    if (error instanceof UsageError) return usage(error.message, commandHelp(spec));
    const code = report(error, { stdout, stderr, json });
    return controller.signal.aborted ? EXIT.interrupted : code;
  } finally {
    release();
  }
}

/** Commands that pass the abort signal on (a sync run ends `cancelled`, its lock released). */
const INTERRUPTIBLE = new Set(['sync', 'retry-failures', 'demo']);

/** Errors fixed in the configuration (the key, DATABASE_URL) or by `migrate`, not by running again: exit 3. */
const CONFIGURATION_CODES: ReadonlySet<string> = new Set(['ENCRYPTION_KEY_MISMATCH', 'DATABASE_UNREACHABLE', 'DATABASE_NOT_MIGRATED']);

/** Prints a usage error on stderr (with `help` after it), also as JSON on stdout with `--json`; returns exit 2. */
function usageError(message: string, help: string, io: { stdout: NodeJS.WritableStream; stderr: NodeJS.WritableStream; json: boolean }): number {
  io.stderr.write(help ? `${message}\n\n${help}` : `${message}\n`);
  if (io.json) io.stdout.write(`${JSON.stringify({ ok: false, error: message, code: 'CLI_USAGE' })}\n`);
  return EXIT.usage;
}

/** Prints an error (as JSON with `--json`) and returns its exit code. */
function report(error: unknown, io: { stdout: NodeJS.WritableStream; stderr: NodeJS.WritableStream; json: boolean }): number {
  const message = error instanceof Error ? error.message : String(error);
  const details = (error as ShopifyIngestError).details as { errors?: string[] } | undefined;
  if (io.json) io.stdout.write(`${JSON.stringify({ ok: false, error: message, code: (error as ShopifyIngestError).code, ...(details?.errors ? { errors: details.errors } : {}) })}\n`);
  else io.stderr.write(`${message}\n`);
  if (error instanceof ConfigError || CONFIGURATION_CODES.has((error as ShopifyIngestError).code)) return EXIT.config;
  return onlyAlreadyRunning(error) ? EXIT.busy : EXIT.failed;
}

/** First SIGINT/SIGTERM: abort cleanly. Second: exit now. Returns the function that uninstalls them. */
export function handleSignals(controller: AbortController, stderr: NodeJS.WritableStream): () => void {
  const onSignal = (signal: NodeJS.Signals) => {
    if (!controller.signal.aborted) {
      stderr.write(`\n${signal === 'SIGINT' ? 'Ctrl-C' : signal}: stopping after the current batch; the run is recorded as cancelled and its checkpoint kept (run the same command to resume). Press Ctrl-C again to exit now.\n`);
      controller.abort(new ShopifyIngestError('CLI_INTERRUPTED', `interrupted by ${signal}`));
      return;
    }
    stderr.write(`${signal} again: exiting now\n`);
    process.exit(EXIT.interrupted);
  };
  process.on('SIGINT', onSignal);
  process.on('SIGTERM', onSignal);
  return () => {
    process.off('SIGINT', onSignal);
    process.off('SIGTERM', onSignal);
  };
}

async function runSimulator(argv: string[], stdout: NodeJS.WritableStream, stderr: NodeJS.WritableStream): Promise<number> {
  // The simulator has its own flags (faults, buckets, big ids): its CLI parses them.
  const { runSimulatorCli, SIMULATOR_USAGE } = await import('../testing/cli.js');
  try {
    await runSimulatorCli(argv, { stdout });
    return EXIT.ok;
  } catch (error) {
    const code = String((error as { code?: string }).code ?? '');
    if (code === 'ERR_PARSE_ARGS_UNKNOWN_OPTION') {
      const flag = /'(-{1,2}[^']+)'/.exec((error as Error).message)?.[1] ?? '';
      const known = [...SIMULATOR_USAGE.matchAll(/--([a-z-]+)/g)].map((m) => m[1]!);
      const hint = closest(flag.replace(/^-+/, '').split('=')[0]!, known);
      stderr.write(`unknown option ${flag} for simulator${hint ? ` (did you mean --${hint}?)` : ''}\nRun \`shopify-ingest simulator --help\` for the options.\n`);
      return EXIT.usage;
    }
    stderr.write(`${(error as Error).message}\n`);
    if (error instanceof ConfigError) return EXIT.config;
    return code.startsWith('ERR_PARSE_ARGS') ? EXIT.usage : EXIT.failed;
  }
}

/** Every resource that failed was refused by the run lock (importAll aggregates one error per resource). */
function onlyAlreadyRunning(error: unknown): boolean {
  const { code, details } = error as { code?: string; details?: { errors?: Array<{ code?: string }> } };
  if (code !== 'IMPORT_ALREADY_RUNNING') return false;
  return (details?.errors ?? []).every((e) => e.code === 'IMPORT_ALREADY_RUNNING');
}

// Run when executed as the bin (not when imported by tests).
const invokedAs = process.argv[1] ?? '';
if (/shopify-ingest$|cli[\\/]index\.(c?js|ts)$/.test(invokedAs)) {
  main(process.argv.slice(2), { handleSignals: true }).then((code) => { process.exitCode = code; }, (error) => {
    process.stderr.write(`${(error as Error).stack ?? error}\n`);
    process.exitCode = EXIT.failed;
  });
}
