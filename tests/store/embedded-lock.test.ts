/**
 * The embedded database is one process's at a time. A second process opening the same folder was
 * not refused: one process's writes were lost and the folder then hung `addTenant` (found by
 * following examples/README's "connect a store from another process" with the app running).
 * Real child processes hold the folder; one is killed with SIGKILL to leave a stale lock.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { createDatabase } from '../../src/store/database.js';
import { EMBEDDED_LOCK_FILE } from '../../src/store/embedded-lock.js';
import { PrismaClient } from '../../src/prisma-client.js';

const here = path.dirname(fileURLToPath(import.meta.url));
const root = path.resolve(here, '../..');
const children: ChildProcess[] = [];
const dirs: string[] = [];

async function folder(): Promise<string> {
  const dir = await mkdtemp(path.join(tmpdir(), 'si-embedded-lock-'));
  dirs.push(dir);
  return dir;
}

/** A child that opens the folder; resolves once it wrote its row, or with its exit and stderr if it could not. */
function hold(dataDir: string, kind: 'database' | 'client' = 'database'): Promise<{ child: ChildProcess; pid: number } | { code: number | null; stderr: string }> {
  const child = spawn(process.execPath, ['--import', 'tsx', path.join(here, 'fixtures/hold-embedded.ts'), dataDir, kind], { cwd: root, stdio: ['pipe', 'pipe', 'pipe'] });
  children.push(child);
  let stdout = '';
  let stderr = '';
  child.stderr!.on('data', (c) => { stderr += String(c); });
  return new Promise((resolve) => {
    child.stdout!.on('data', (c) => {
      stdout += String(c);
      const ready = /ready (\d+)/.exec(stdout);
      if (ready) resolve({ child, pid: Number(ready[1]) });
    });
    child.once('exit', (code) => resolve({ code, stderr }));
  });
}

function exited(child: ChildProcess): Promise<void> {
  return child.exitCode !== null || child.signalCode !== null ? Promise.resolve() : new Promise((resolve) => child.once('exit', () => resolve()));
}

afterEach(async () => {
  for (const child of children.splice(0)) { child.kill('SIGKILL'); await exited(child); }
  for (const dir of dirs.splice(0)) await rm(dir, { recursive: true, force: true });
});

describe('the embedded database is one process\'s', () => {
  it('a folder a live process has open is refused with DATABASE_IN_USE naming it; once that process is SIGKILLed its stale lock is taken over, its rows kept', async () => {
    const dir = await folder();
    const held = await hold(dir);
    if (!('pid' in held)) throw new Error(`the child could not open the folder: ${held.stderr}`);
    await expect(createDatabase({ dataDir: dir, migrate: false })).rejects.toMatchObject({ code: 'DATABASE_IN_USE', details: { pid: held.pid } });
    expect(() => new PrismaClient({ dataDir: dir })).toThrow(expect.objectContaining({ code: 'DATABASE_IN_USE' }));
    held.child.kill('SIGKILL');
    await exited(held.child);

    const prisma = await createDatabase({ dataDir: dir, migrate: false });
    const rows = await prisma.$queryRawUnsafe<Array<{ pid: number }>>('SELECT pid FROM held');
    expect(rows.map((r) => Number(r.pid))).toEqual([held.pid]);
    expect(existsSync(path.join(dir, EMBEDDED_LOCK_FILE))).toBe(true);
    await prisma.$disconnect();
    expect(existsSync(path.join(dir, EMBEDDED_LOCK_FILE))).toBe(false);
  }, 120_000);

  it('a client that disconnects releases the folder at once: createDatabase and the PrismaClient of shopify-ingest/prisma alike', async () => {
    const dir = await folder();
    // This process holds it: a child is refused, and gets it once this process disconnects.
    const mine = await createDatabase({ dataDir: dir, migrate: false });
    const refused = await hold(dir);
    expect('code' in refused && refused.code).not.toBe(0);
    expect('stderr' in refused && refused.stderr).toContain('DATABASE_IN_USE');
    await mine.$disconnect();

    const child = await hold(dir, 'client');
    if (!('pid' in child)) throw new Error(`the child could not open the folder: ${child.stderr}`);
    const closed = new Promise<void>((resolve) => child.child.stdout!.on('data', (c) => { if (String(c).includes('closed')) resolve(); }));
    child.child.stdin!.write('close\n');
    await closed;
    await exited(child.child);
    const again = new PrismaClient({ dataDir: dir });
    expect(await again.$queryRawUnsafe<Array<{ n: number }>>('SELECT count(*)::int AS n FROM held')).toEqual([{ n: 1 }]);
    await again.$disconnect();
    expect(existsSync(path.join(dir, EMBEDDED_LOCK_FILE))).toBe(false);
  }, 120_000);
});
