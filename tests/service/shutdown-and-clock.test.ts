/**
 * Found by review of the facade's shutdown and scheduler wiring, each test failing on the code before:
 * - `shutdown()` called a second time (SIGTERM after SIGINT) resolved at once while the first call
 *   was still waiting for running work: a host disconnecting its database then cut those runs off;
 * - a scheduled job that is not an import (the host's own `runJob`, the subscriptions check) still
 *   running at the deadline never had its `run.signal` aborted;
 * - the service's injected `clock` did not reach its scheduler (run times, date windows, leases).
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { randomBytes } from 'node:crypto';
import { createIngestionService } from '../../src/index.js';
import { listLeases } from '../../src/store/leases.js';
import { createTestDatabase, type TestDatabase } from '../helpers/db.js';

let db: TestDatabase;
beforeAll(async () => { db = await createTestDatabase({ prefix: 'si_shutdown_clock' }); });
afterAll(async () => { await db?.drop(); });
const env = () => ({ ENCRYPTION_KEY: randomBytes(32).toString('hex') });

describe('shutdown', () => {
  it('called twice: the second call resolves only when the first does, after the work it waits for', async () => {
    let finishedAt = 0;
    const service = createIngestionService(db.database, {
      env: env(), healthCheckIntervalMs: 0, webhooks: { enabled: false },
      scheduler: { distributed: false, runJob: () => new Promise((resolve) => setTimeout(() => { finishedAt = Date.now(); resolve('done'); }, 400)) },
    });
    await service.initialize();
    service.scheduler!.addTenantJobs('t-twice');
    const run = service.scheduler!.runJobNow('customers-sync-t-twice');
    const order: string[] = [];
    const first = service.shutdown({ timeoutMs: 5_000 }).then(() => order.push('first'));
    const secondAt = await service.shutdown({ timeoutMs: 5_000 }).then(() => { order.push('second'); return Date.now(); });
    await Promise.all([first, run]);
    expect(finishedAt).toBeGreaterThan(0);
    expect(secondAt).toBeGreaterThanOrEqual(finishedAt);
    expect(order).toEqual(['first', 'second']);
  }, 20_000);

  it('aborts the signal of a scheduled job still running at the deadline, and waits for it to stop', async () => {
    let signal: AbortSignal | undefined;
    let finished = false;
    const service = createIngestionService(db.database, {
      env: env(), healthCheckIntervalMs: 0, webhooks: { enabled: false },
      // A runner that honours its signal, as ScheduledRun.signal asks.
      scheduler: {
        distributed: false,
        runJob: (run) => new Promise((resolve) => {
          signal = run.signal;
          const t = setTimeout(() => { finished = true; resolve('done'); }, 5_000);
          run.signal.addEventListener('abort', () => { clearTimeout(t); setTimeout(() => { finished = true; resolve('aborted'); }, 50); });
        }),
      },
    });
    await service.initialize();
    service.scheduler!.addTenantJobs('t-deadline');
    const run = service.scheduler!.runJobNow('customers-sync-t-deadline');
    await new Promise((r) => setTimeout(r, 50));
    const t0 = Date.now();
    await service.shutdown({ timeoutMs: 1_000 });
    const state = { inTime: Date.now() - t0 < 1_500, aborted: signal?.aborted, finished, runningJobs: service.scheduler!.getStatus().runningJobs };
    await run;
    expect(state).toEqual({ inTime: true, aborted: true, finished: true, runningJobs: 0 });
  }, 20_000);
});

describe('the service clock', () => {
  it('reaches the scheduler (run start, date window, lease times)', async () => {
    const now = new Date('2031-06-01T12:00:00Z');
    const seen: Array<{ startedAt: Date; to?: string }> = [];
    const service = createIngestionService(db.database, {
      env: env(), clock: () => now, healthCheckIntervalMs: 0, webhooks: { enabled: false },
      scheduler: {
        enabled: false,
        syncConfig: { orders: { dateWindowDays: 1 } },
        runJob: async (run) => { seen.push({ startedAt: run.startedAt, to: run.options.dateRange?.to }); return 'ok'; },
      },
    });
    await service.initialize();
    service.scheduler!.addTenantJobs('t-clock');
    await service.scheduler!.runJobNow('orders-sync-t-clock');
    const [lease] = await listLeases(db.prisma, 'orders-sync-t-clock');
    await service.shutdown({ timeoutMs: 1000 });
    expect({ startedAt: seen[0]!.startedAt.toISOString(), to: seen[0]!.to, leaseAcquiredAt: lease!.acquiredAt.toISOString() })
      .toEqual({ startedAt: now.toISOString(), to: now.toISOString(), leaseAcquiredAt: now.toISOString() });
  }, 20_000);
});
