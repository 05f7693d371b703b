/**
 * A database outage must never kill the host: PostgreSQL connections are killed (pg_terminate_backend)
 * again and again (the child's only) while the README's pool setup writes batches (COPY and JSON paths, several in
 * flight) in a real child process. The child must live through it, see the failures as rejected
 * writes, and write again once the database is back. The shared server itself is not stopped (other
 * test files use it); killing every connection of the test database is the same event to a client.
 */
import { spawn } from 'node:child_process';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createStore } from '../../src/store/index.js';
import { createTestDatabase, type TestDatabase } from '../helpers/db.js';

const here = path.dirname(fileURLToPath(import.meta.url));
const root = path.resolve(here, '../..');
let db: TestDatabase;
beforeAll(async () => {
  db = await createTestDatabase({ prefix: 'si_pg_outage' });
  await createStore(db.database).upsertTenant({ id: 'outage', shopDomain: 'outage.myshopify.com', accessTokenEnc: 'x' });
});
afterAll(async () => { await db?.drop(); });

/** The child; `onAfter` is called when its outage phase is over, and resolves when it may write again. */
function runChild(onAfter: () => Promise<void>): Promise<{ code: number | null; signal: string | null; lines: string[]; stderr: string }> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, ['--import', 'tsx', path.join(here, 'fixtures/outage-child.ts')], {
      cwd: root, env: { ...process.env, OUTAGE_DATABASE_URL: `${db.url}${db.url.includes('?') ? '&' : '?'}application_name=si_outage_child`, OUTAGE_TENANT: 'outage', OUTAGE_MS: '3000' }, stdio: ['pipe', 'pipe', 'pipe'],
    });
    const lines: string[] = [];
    let stderr = '';
    let buffer = '';
    child.stdout.on('data', (c: Buffer) => {
      buffer += c.toString();
      let nl: number;
      while ((nl = buffer.indexOf('\n')) >= 0) {
        const line = buffer.slice(0, nl);
        lines.push(line);
        buffer = buffer.slice(nl + 1);
        if (line.includes('"phase":"after"')) void onAfter().then(() => child.stdin.write('go\n'));
      }
    });
    child.stderr.on('data', (c: Buffer) => { stderr += c.toString(); });
    child.on('error', reject);
    child.on('exit', (code, signal) => resolve({ code, signal, lines, stderr }));
  });
}

describe('PostgreSQL connections killed during batch writes', { timeout: 120_000 }, () => {
  for (const trial of [1, 2, 3]) {
    it(`the host process survives, sees rejected writes, and writes again after (trial ${trial})`, async () => {
      const admin = new pg.Client({ connectionString: db.url });
      await admin.connect();
      const database = new URL(db.url).pathname.slice(1);
      let kills = 0;
      let stop = false;
      let killer: Promise<void> = Promise.resolve();
      // The outage ends before the child's last write: no kill can race it.
      // (The last kill's notice reaches the child's idle connections within a moment; 300 ms is plenty on one host.)
      const child = runChild(async () => { stop = true; await killer; await new Promise((r) => setTimeout(r, 300)); });
      killer = (async () => {
        while (!stop) {
          await new Promise((r) => setTimeout(r, 150 + trial * 40));
          if (stop) break;
          // Only the child's connections: this process's own (the test harness) stay up.
          const killed = await admin.query(`SELECT pg_terminate_backend(pid) AS ok FROM pg_stat_activity WHERE datname = $1 AND application_name = 'si_outage_child'`, [database]);
          kills += killed.rows.length;
        }
      })();
      const outcome = await child;
      stop = true;
      await killer;
      await admin.end();
      expect(outcome.stderr, 'no crash trace').not.toMatch(/Unhandled|uncaught/i);
      expect(outcome.code, `child exited ${outcome.code}/${outcome.signal}: ${outcome.stderr.slice(-2000)}`).toBe(0);
      const summary = JSON.parse(outcome.lines.at(-1)!) as { writes: number; errors: number };
      expect(kills).toBeGreaterThan(0);
      expect(summary.errors, 'some writes met a killed connection').toBeGreaterThan(0);
      expect(summary.writes).toBeGreaterThan(0);
    });
  }
});
