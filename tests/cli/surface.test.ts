/**
 * What a newcomer types first: --version, --help, `<command> --help`, a mistyped flag, and a
 * configuration that cannot work. All of it answers at once, without opening a database.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { existsSync, readFileSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { COMMANDS } from '../../src/cli/spec.js';
import { RESOURCE_NAMES } from '../../src/resources/registry.js';
import { bin, cli, ensureBuilt, root } from './helpers.js';

const version = (JSON.parse(readFileSync(path.join(root, 'package.json'), 'utf8')) as { version: string }).version;
let cwd: string;

beforeAll(async () => {
  await ensureBuilt();
  cwd = await mkdtemp(path.join(tmpdir(), 'si-cli-surface-'));
}, 300_000);

afterAll(async () => { await rm(cwd, { recursive: true, force: true }); });

describe('--version and --help', () => {
  it('--version and -v print the package version, in-process and as the bin', async () => {
    expect(await cli(['--version'], {})).toEqual({ code: 0, stdout: `${version}\n`, stderr: '' });
    expect((await cli(['-v'], {})).stdout).toBe(`${version}\n`);
    const child = await bin(['--version'], {});
    expect(child).toMatchObject({ code: 0, stdout: `${version}\n` });
  });

  it('every command has its own --help listing each of its flags, and `help <command>` is the same', async () => {
    for (const spec of COMMANDS) {
      if (spec.name === 'simulator') continue; // its own parser: checked below
      const run = await cli([...spec.name.split(' '), '--help'], {});
      expect(run.code, spec.name).toBe(0);
      expect(run.stdout, spec.name).toMatch(new RegExp(`^Usage: shopify-ingest ${spec.name}`));
      for (const flag of Object.keys(spec.flags)) expect(run.stdout, `${spec.name} --${flag}`).toContain(`--${flag}`);
      expect((await cli(['help', ...spec.name.split(' ')], {})).stdout).toBe(run.stdout);
    }
    const simulator = await cli(['simulator', '--help'], {});
    expect(simulator.code).toBe(0);
    expect(simulator.stdout).toContain('--fault <kind=rate>');
    const group = await cli(['tenants', '--help'], {});
    expect(group.code).toBe(0);
    expect(group.stdout).toMatch(/tenants add <tenant>/);
    expect(group.stdout).toMatch(/tenants remove <tenant>/);
  });

  it('the top-level help lists every command, failures and retry-failures included', async () => {
    const run = await cli(['--help'], {});
    for (const spec of COMMANDS) expect(run.stdout).toContain(spec.name);
    expect(run.stdout).toContain('shopify-ingest <command> --help');
  });

  it('help stays readable as resources are added: the commands column is narrow, and `sync --help` names every resource', async () => {
    // The sync synopsis once listed every resource, which pushed every summary 170 columns right.
    const help = (await cli(['--help'], {})).stdout.split('\n');
    for (const spec of COMMANDS) {
      const line = help.find((l) => l.startsWith(`  ${spec.name}`) && l.endsWith(spec.summary));
      expect(line?.indexOf(spec.summary), spec.name).toBeLessThan(40);
    }
    const sync = (await cli(['sync', '--help'], {})).stdout;
    for (const name of RESOURCE_NAMES) expect(sync).toMatch(new RegExp(`\\b${name}\\b`));
    for (const line of sync.split('\n').filter((l) => l.startsWith('Resources') || !l.startsWith(' '))) expect(line.length).toBeLessThanOrEqual(120);
  });
});

describe('mistakes get a hint', () => {
  it('a mistyped flag is an error (exit 2) with did-you-mean, and a flag of another command says where it belongs', async () => {
    const typo = await cli(['sync', 'acme', '--batchsize', '5'], {});
    expect(typo.code).toBe(2);
    expect(typo.stderr).toMatch(/^unknown option --batchsize for sync \(did you mean --batch-size\?\)/);
    expect(typo.stderr).toContain('shopify-ingest sync --help');

    const elsewhere = await cli(['status', '--purge'], {});
    expect(elsewhere.code).toBe(2);
    expect(elsewhere.stderr).toMatch(/unknown option --purge for status \(it belongs to: tenants remove\)/);

    const simulator = await cli(['simulator', '--order', '5'], {});
    expect(simulator.code).toBe(2);
    expect(simulator.stderr).toMatch(/unknown option --order for simulator \(did you mean --orders\?\)/);

    const command = await cli(['snyc', 'acme'], {});
    expect(command.code).toBe(2);
    expect(command.stderr).toMatch(/^unknown command: snyc \(did you mean sync\?\)/);

    const sub = await cli(['tenants', 'ad', 'x'], {});
    expect(sub.code).toBe(2);
    expect(sub.stderr).toMatch(/^unknown command: tenants ad \(did you mean tenants add\?\)/);
  });

  it('a bad value of a known flag is a usage error too', async () => {
    const run = await cli(['sync', 'acme', '--mode', 'sometimes', '--database-url', 'postgresql://127.0.0.1:1/x'], { ENCRYPTION_KEY: 'k'.repeat(32) });
    expect(run.code).toBe(2);
    expect(run.stderr).toMatch(/--mode must be full, incremental or auto/);
  });
});

describe('configuration is checked before anything opens', () => {
  it('a mysql:// DATABASE_URL exits 3 at once naming the variable, lists every other problem with it, echoes no password and creates no embedded database', async () => {
    const run = await bin(['status'], { DATABASE_URL: 'mysql://root:hunter2@db.internal/shop', LOG_LEVEL: 'loud' }, { cwd, timeoutMs: 20_000 });
    // Measured here: ~0.3 s, most of it Node starting; before this check the CLI fell back to the embedded database.
    console.log(`[measured] shopify-ingest status with a mysql:// DATABASE_URL exited ${run.code} after ${run.ms} ms`);
    expect(run.code).toBe(3);
    expect(run.stderr).toMatch(/invalid configuration for `shopify-ingest status`/);
    expect(run.stderr).toMatch(/DATABASE_URL must be a postgres:\/\/ or postgresql:\/\/ URL/);
    expect(run.stderr).toMatch(/LOG_LEVEL must be one of/);
    expect(run.stderr).toMatch(/ENCRYPTION_KEY is required/);
    expect(run.stderr).not.toContain('hunter2');
    expect(existsSync(path.join(cwd, '.shopify-ingest'))).toBe(false);
  });

  it('--json reports the same errors as a list; a bad --database-url is named as the flag', async () => {
    const run = await cli(['migrate', '--json', '--database-url', 'mysql://u:secret@h/db'], {});
    expect(run.code).toBe(3);
    const body = JSON.parse(run.stdout) as { ok: boolean; code: string; errors: string[] };
    expect(body).toMatchObject({ ok: false, code: 'CONFIG_INVALID' });
    expect(body.errors).toEqual(['--database-url must be a postgres:// or postgresql:// URL (got mysql:...)']);
    expect(run.stdout).not.toContain('secret');
  });

  it('with --json a usage error is a JSON object too (CLI_USAGE, exit 2); without it stdout stays empty', async () => {
    const cases: Array<[string[], RegExp]> = [
      [['frobnicate', '--json'], /^unknown command: frobnicate/],
      [['tenants', 'frob', '--json'], /^unknown command: tenants frob/],
      [['sync', '--batchsize', '5', '--json'], /^unknown option --batchsize for sync \(did you mean --batch-size\?\)/],
      [['--json'], /^no command given/],
    ];
    for (const [argv, message] of cases) {
      const run = await cli(argv, {});
      expect(run.code, argv.join(' ')).toBe(2);
      expect(run.stderr, argv.join(' ')).toMatch(message);
      expect(JSON.parse(run.stdout), argv.join(' ')).toEqual({ ok: false, code: 'CLI_USAGE', error: expect.stringMatching(message) });
      const plain = await cli(argv.filter((a) => a !== '--json'), {});
      expect(plain.code, argv.join(' ')).toBe(2);
      expect(plain.stdout, argv.join(' ')).toBe('');
    }
    // A command's own usage error (a missing argument), found after its configuration was checked.
    const missing = await cli(['tenants', 'add', 'acme', '--json', '--data-dir', path.join(cwd, 'usage-db')], { ENCRYPTION_KEY: 'a'.repeat(64) });
    expect(missing.code).toBe(2);
    expect(JSON.parse(missing.stdout)).toEqual({ ok: false, code: 'CLI_USAGE', error: 'tenants add <tenant> --shop <domain> --token <token>' });
  });

  it('the demo, which generates its own key, still refuses a wrong DATABASE_URL', async () => {
    const run = await cli(['demo'], { DATABASE_URL: 'file:./dev.db' });
    expect(run.code).toBe(3);
    expect(run.stderr).toMatch(/DATABASE_URL must be a postgres/);
  });
});
