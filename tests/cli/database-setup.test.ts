/**
 * A database the CLI cannot use is a configuration problem a newcomer fixes in DATABASE_URL or with
 * `migrate`: the CLI prints the SDK's DatabaseSetupError (what failed and what to check), not the
 * driver's bare sentence, and exits 3 as the README says. Help text names defaults a person can read.
 */
import { describe, expect, it } from 'vitest';
import { randomBytes } from 'node:crypto';
import { cli } from './helpers.js';
import { testDatabaseUrl } from '../helpers/pg-config.js';

const env = { ENCRYPTION_KEY: randomBytes(32).toString('hex'), LOG_LEVEL: 'silent' };

describe('a database the CLI cannot use', () => {
  const missing = testDatabaseUrl(`si_cli_absent_${randomBytes(3).toString('hex')}`);

  it('a database that does not exist: DATABASE_UNREACHABLE with what to check, exit 3, for every command that opens it', async () => {
    for (const args of [['status'], ['migrate'], ['sync', 'acme', 'orders'], ['tenants', 'list'], ['demo', '--orders', '10']]) {
      const run = await cli([...args, '--database-url', missing], env);
      expect(run.code, args.join(' ')).toBe(3);
      expect(run.stderr, args.join(' ')).toMatch(/^\[shopify-ingest\] .*cannot use the database \(Database `si_cli_absent_\w+` does not exist on the database server\)\. Check DATABASE_URL/);
    }
  });

  it('nothing listening: the same, and --json carries the code', async () => {
    const run = await cli(['status', '--database-url', 'postgresql://postgres@127.0.0.1:1/x', '--json'], env);
    expect(run.code).toBe(3);
    expect(JSON.parse(run.stdout)).toMatchObject({ ok: false, code: 'DATABASE_UNREACHABLE', error: expect.stringMatching(/Check DATABASE_URL/) });
  });
});

describe('help names defaults, not constants', () => {
  it('sync --help gives the batch size and concurrency defaults and the variables that change them', async () => {
    const help = (await cli(['sync', '--help'], {})).stdout;
    expect(help).not.toMatch(/default DEFAULT_/);
    expect(help).toMatch(/--batch-size <n> +Rows per database write \(default 250, or the DEFAULT_BATCH_SIZE variable\)/);
    expect(help).toMatch(/--concurrency <n> +Batch writes in flight \(default 3, or the DEFAULT_CONCURRENCY variable\)/);
  });
});
