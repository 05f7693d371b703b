/**
 * Two real processes call runJobNow for the same job at the same moment (a "sync now" button served
 * by two app instances). docs/scheduling.md: runJobNow "rejects with SCHEDULER_JOB_BUSY while it runs"
 * on another instance, so the two runs never overlap.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { spawn, type ChildProcess } from 'node:child_process';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { createTestDatabase, type TestDatabase } from '../helpers/db.js';

const script = path.join(path.dirname(fileURLToPath(import.meta.url)), 'fixtures/manual-runner.ts');
let db: TestDatabase;
const children: ChildProcess[] = [];
beforeAll(async () => {
  db = await createTestDatabase({ prefix: 'si_sched_procs' });
  await db.query('CREATE TABLE race_marks (job_id text, instance text, started timestamptz, finished timestamptz)');
});
afterAll(async () => { for (const c of children) if (c.exitCode === null) c.kill('SIGKILL'); await db?.drop(); });

function start(id: string) {
  const child = spawn(process.execPath, ['--import', 'tsx', script], { env: { ...process.env, DATABASE_URL: db.url, INSTANCE_ID: id }, stdio: ['pipe', 'pipe', 'pipe'] });
  children.push(child);
  let out = '';
  let err = '';
  child.stdout!.on('data', (d) => { out += d; });
  child.stderr!.on('data', (d) => { err += d; });
  const waitFor = (re: RegExp) => new Promise<void>((resolve, reject) => {
    const t0 = Date.now();
    const tick = () => { if (re.test(out)) resolve(); else if (Date.now() - t0 > 60_000 || child.exitCode !== null) reject(new Error(`${id}: ${err}`)); else setTimeout(tick, 10); };
    tick();
  });
  return { child, waitFor, send: (l: string) => child.stdin!.write(`${l}\n`), out: () => out };
}

describe('runJobNow on two processes at once', () => {
  it('never runs the job on both at the same time', async () => {
    const a = start('proc-a');
    const b = start('proc-b');
    await Promise.all([a.waitFor(/^ready$/m), b.waitFor(/^ready$/m)]);
    const N = 30;
    for (let i = 0; i < N; i++) {
      a.send(`go ${i}`); b.send(`go ${i}`);
      await Promise.all([a.waitFor(new RegExp(`^done ${i} `, 'm')), b.waitFor(new RegExp(`^done ${i} `, 'm'))]);
    }
    a.send('exit'); b.send('exit');
    // Overlapping runs of one job. (Two runs one after the other are allowed: a claim that reaches
    // the database after the other run ended, on a loaded machine, rightly runs the job again.)
    const overlapping = await db.query<{ job_id: string; runs: number }>(
      `SELECT job_id, count(*)::int AS runs FROM race_marks GROUP BY job_id HAVING count(*) > 1 AND max(started) < min(finished)`);
    const outcomes = [...`${a.out()}${b.out()}`.matchAll(/^done (\d+) (.+)$/gm)].map((m) => m[2]!);
    expect({ overlapping, errors: outcomes.filter((o) => o !== 'ran' && o !== 'busy') }).toEqual({ overlapping: [], errors: [] });
    expect(outcomes.filter((o) => o === 'busy').length).toBeGreaterThan(0);
  }, 120_000);
});
