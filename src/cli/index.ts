#!/usr/bin/env node
/**
 * The `shopify-ingest` command. Exit codes: 0 ok, 1 failed, 2 usage error, 3 configuration error,
 * 4 finished but some records failed (see shopify_sync_failures).
 */
import { parseArgs } from 'node:util';
import { ConfigError, ShopifyIngestError } from '../errors.js';
import { runCommand, type CliContext } from './commands.js';
import { EXIT, UsageError } from './exit.js';

export { EXIT, UsageError };

export const USAGE = `Usage: shopify-ingest <command> [options]

Commands:
  demo                                 Simulator + embedded database + full sync + live webhooks, with a summary
  migrate                              Apply pending migrations to the database
  sync <tenant> [customers|products|orders|all] [--mode full|incremental|auto] [--dry-run] [--wait <seconds>]
  status                               Sync status of every tenant
  tenants list
  tenants add <tenant> --shop <domain> --token <token> [--base-url <url>] [--name <name>]
  tenants remove <tenant> [--purge]
  webhooks replay <id>                 Put a stored delivery back to pending
  simulator [--shops 3] [--orders 10000] [--port N] [--https] [--fault 5xx=0.05] ...  (simulator --help)

Exit codes: 0 ok, 1 failed, 2 usage error, 3 configuration error, 4 some records failed,
  5 sync skipped a resource another run was importing, and nothing else failed
  (--wait <seconds> waits for that run to finish first; default 0)

Options:
  --database-url <url>   PostgreSQL (default DATABASE_URL, else the embedded database in ./.shopify-ingest/db)
  --json                 Machine-readable output
  -h, --help             This help
`;

export async function main(argv: string[] = process.argv.slice(2), context: Partial<CliContext> = {}): Promise<number> {
  const stdout = context.stdout ?? process.stdout;
  const stderr = context.stderr ?? process.stderr;
  if (argv[0] === 'simulator') {
    // The simulator has its own flags (faults, buckets, big ids): its CLI parses them.
    const { runSimulatorCli } = await import('../testing/cli.js');
    try {
      await runSimulatorCli(argv.slice(1), { stdout });
      return EXIT.ok;
    } catch (error) {
      stderr.write(`${(error as Error).message}\n`);
      if (error instanceof ConfigError) return EXIT.config;
      return String((error as { code?: string }).code ?? '').startsWith('ERR_PARSE_ARGS') ? EXIT.usage : EXIT.failed;
    }
  }
  let parsed;
  try {
    parsed = parseArgs({
      args: argv,
      allowPositionals: true,
      strict: true,
      options: {
        json: { type: 'boolean' },
        help: { type: 'boolean', short: 'h' },
        'database-url': { type: 'string' },
        'data-dir': { type: 'string' },
        mode: { type: 'string' },
        'dry-run': { type: 'boolean' },
        'batch-size': { type: 'string' },
        concurrency: { type: 'string' },
        wait: { type: 'string' },
        shop: { type: 'string' },
        token: { type: 'string' },
        'base-url': { type: 'string' },
        name: { type: 'string' },
        purge: { type: 'boolean' },
        orders: { type: 'string' },
        customers: { type: 'string' },
        products: { type: 'string' },
        seed: { type: 'string' },
      },
    });
  } catch (error) {
    stderr.write(`${(error as Error).message}\n\n${USAGE}`);
    return EXIT.usage;
  }
  const { values, positionals } = parsed;
  if (values.help || positionals.length === 0) {
    // No command is a usage error: the help goes to stderr then, so a script's stdout stays empty.
    (values.help ? stdout : stderr).write(USAGE);
    return positionals.length === 0 && !values.help ? EXIT.usage : EXIT.ok;
  }
  const ctx: CliContext = {
    stdout,
    stderr,
    env: context.env ?? process.env,
    json: Boolean(values.json),
  };
  try {
    return await runCommand(positionals, values as Record<string, string | boolean | undefined>, ctx);
  } catch (error) {
    if (error instanceof UsageError) {
      ctx.stderr.write(`${error.message}\n\n${USAGE}`);
      return EXIT.usage;
    }
    const message = error instanceof Error ? error.message : String(error);
    if (ctx.json) ctx.stdout.write(`${JSON.stringify({ ok: false, error: message, code: (error as ShopifyIngestError).code })}\n`);
    else ctx.stderr.write(`${message}\n`);
    if (error instanceof ConfigError) return EXIT.config;
    return onlyAlreadyRunning(error) ? EXIT.busy : EXIT.failed;
  }
}

/** Every resource that failed was refused by the run lock (importAll aggregates one error per resource). */
function onlyAlreadyRunning(error: unknown): boolean {
  const { code, cause } = error as { code?: string; cause?: unknown };
  if (code !== 'IMPORT_ALREADY_RUNNING') return false;
  return cause instanceof AggregateError ? cause.errors.every((e) => (e as { code?: string }).code === 'IMPORT_ALREADY_RUNNING') : true;
}

// Run when executed as the bin (not when imported by tests).
const invokedAs = process.argv[1] ?? '';
if (/shopify-ingest$|cli[\\/]index\.(c?js|ts)$/.test(invokedAs)) {
  main().then((code) => { process.exitCode = code; }, (error) => {
    process.stderr.write(`${(error as Error).stack ?? error}\n`);
    process.exitCode = EXIT.failed;
  });
}
