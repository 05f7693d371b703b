/**
 * Scheduler and auth figures: what a tick's election costs in PostgreSQL, and what the auth
 * middleware costs per request. Run: npx tsx bench/scheduler.ts (bounded to a few seconds).
 */
import { PrismaPg } from '@prisma/adapter-pg';
import { PrismaClient } from '../src/generated/prisma/client.js';
import { acquireLease, releaseLease } from '../src/store/leases.js';
import { createAuthenticator, signSessionToken } from '../src/auth/index.js';
import { createTestDatabase } from '../tests/helpers/test-database.js';

const pct = (xs: number[], p: number) => [...xs].sort((a, b) => a - b)[Math.min(xs.length - 1, Math.floor((p / 100) * xs.length))]!;

const db = await createTestDatabase({ prefix: 'si_bench_sched' });
const INSTANCES = 4;
const TICKS = 300;
// One Prisma client (own pool) per simulated instance, as separate processes would have.
const instances = Array.from({ length: INSTANCES }, () => new PrismaClient({ adapter: new PrismaPg({ connectionString: db.url }) }));
try {
  for (const p of instances) await p.$queryRawUnsafe('SELECT 1');
  const electionMs: number[] = [];
  let winners = 0;
  const t0 = performance.now();
  for (let tick = 0; tick < TICKS; tick++) {
    const now = new Date(Date.UTC(2030, 0, 1) + tick * 60_000);
    const runKey = now.toISOString();
    const start = performance.now();
    const results = await Promise.all(instances.map((p, i) => acquireLease(p, { jobId: 'orders-sync-bench', runKey, holder: `i${i}`, now, ttlMs: 30_000 })));
    electionMs.push(performance.now() - start);
    const won = results.findIndex((r) => r.acquired);
    if (results.filter((r) => r.acquired).length !== 1) throw new Error(`tick ${tick}: ${results.filter((r) => r.acquired).length} winners`);
    winners++;
    await releaseLease(instances[won]!, { jobId: 'orders-sync-bench', runKey, holder: `i${won}`, now });
  }
  const total = performance.now() - t0;
  console.log(`lease election, ${INSTANCES} instances racing, ${TICKS} ticks: ${winners} ticks with exactly one winner`);
  console.log(`  per tick (all instances answered): p50 ${pct(electionMs, 50).toFixed(2)} ms, p95 ${pct(electionMs, 95).toFixed(2)} ms, p99 ${pct(electionMs, 99).toFixed(2)} ms`);
  console.log(`  elections + releases: ${(TICKS / (total / 1000)).toFixed(0)} ticks/s`);
} finally {
  for (const p of instances) await p.$disconnect();
  await db.drop();
}

const apiKey = 'bench-client-id';
const apiSecret = 'shpss_bench_secret_0123456789abcdef';
const auth = createAuthenticator({ apiKey, apiSecret, apiKeys: Array.from({ length: 10 }, (_, i) => `ops-key-${i}-abcdefghijkl`), env: {} });
const token = signSessionToken({ shop: 'bench.myshopify.com', apiKey, apiSecret, expiresInSec: 3600 });
for (const [name, headers] of [
  ['session token (HS256 verify)', { authorization: `Bearer ${token}` }],
  ['static key (10 keys, constant time)', { 'x-api-key': 'ops-key-9-abcdefghijkl' }],
  ['rejected key', { 'x-api-key': 'nope' }],
] as const) {
  const N = 50_000;
  const start = performance.now();
  for (let i = 0; i < N; i++) auth(headers);
  const ms = performance.now() - start;
  console.log(`auth ${name}: ${((N / ms) * 1000).toFixed(0)} req/s (${((ms * 1000) / N).toFixed(1)} µs each)`);
}
