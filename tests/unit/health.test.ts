import { describe, expect, it } from 'vitest';
import {
  createScheduleIntervals, healthThresholds, inboxCheck, overallLevel, syncsCheck, webhookWorkerCheck, type HealthChecks,
} from '../../src/health.js';
import { DEFAULT_SYNC_CONFIG, mergeSyncConfig, type SyncConfig, type SyncConfigOverrides } from '../../src/scheduler/sync-config.js';
import type { ResourceSyncFacts } from '../../src/store/health.js';

const HOUR = 3_600_000;
const DAY = 24 * HOUR;
const now = new Date('2025-06-01T12:00:00Z');
const limits = healthThresholds();

describe('health checks (pure)', () => {
  it('schedule intervals: the longest gap between runs, null for an invalid expression', () => {
    const interval = createScheduleIntervals();
    expect(interval('*/30 * * * *', 'UTC')).toBe(30 * 60_000);
    expect(interval('0 9,17 * * *', 'UTC')).toBe(16 * HOUR);
    expect(interval('0 1 * * 0', 'Europe/Paris')).toBe(7 * DAY);
    expect(interval('not a cron', 'UTC')).toBeNull();
  });

  it('defaults: 3 intervals, 6 h runs, 1000 waiting deliveries, 5 min of age, 5 min batches', () => {
    expect(limits).toEqual({ staleAfterIntervals: 3, maxRunMs: 6 * HOUR, maxWaiting: 1000, maxAgeMs: 5 * 60_000, maxBatchMs: 5 * 60_000 });
    expect(healthThresholds({ syncs: { staleAfterIntervals: 0 }, inbox: { maxWaiting: 5 } })).toMatchObject({ staleAfterIntervals: 0, maxWaiting: 5, maxAgeMs: 5 * 60_000 });
  });

  it('inbox: degraded only above the thresholds', () => {
    const oldest = (ageMs: number) => ({ id: 'i1', tenantId: 't', topic: 'orders/create', receivedAt: new Date(now.getTime() - ageMs), attempts: 0, lastError: null });
    expect(inboxCheck({ waiting: 0, oldest: null }, limits, now)).toMatchObject({ status: 'healthy', reason: 'nothing waiting' });
    expect(inboxCheck({ waiting: 1000, oldest: oldest(5 * 60_000) }, limits, now).status).toBe('healthy');
    expect(inboxCheck({ waiting: 1001, oldest: oldest(1_000) }, limits, now)).toMatchObject({ status: 'degraded', reason: 'backlog: 1001 deliveries waiting (more than 1000)' });
    expect(inboxCheck({ waiting: 1, oldest: oldest(5 * 60_000 + 1_000) }, limits, now).reason).toMatch(/has waited 5 min .*is a webhook worker running\?/);
  });

  it('webhook worker: a batch longer than maxBatchMs is stuck; a failing claim is degraded; not configured is healthy', () => {
    const worker = { running: true, busyForMs: 6 * 60_000, lastError: null, lastErrorAt: null, crashed: null };
    const base = { configured: true, initialized: true, stopping: false, maxBatchMs: limits.maxBatchMs, now };
    expect(webhookWorkerCheck({ ...base, worker }).reason).toMatch(/^stuck: one batch has been processing for 6 min/);
    expect(webhookWorkerCheck({ ...base, worker: { ...worker, busyForMs: 60_000 } }).status).toBe('healthy');
    expect(webhookWorkerCheck({ ...base, worker: { ...worker, busyForMs: null, lastError: 'Error: down', lastErrorAt: now } }).reason).toMatch(/claiming from the inbox fails .*Error: down/);
    expect(webhookWorkerCheck({ ...base, worker: { ...worker, running: false, crashed: 'Error: x' } }).reason).toMatch(/its loop crashed \(Error: x\)/);
    expect(webhookWorkerCheck({ ...base, configured: false, worker: undefined }).status).toBe('healthy');
  });

  describe('syncs', () => {
    const fact = (over: Partial<ResourceSyncFacts> = {}): ResourceSyncFacts => ({
      tenantId: 't1', resource: 'orders', tenantConfig: {}, tenantCreatedAt: new Date(now.getTime() - 400 * DAY),
      latest: null, finished: { id: 'r1', status: 'succeeded', error: null, errorCode: null, finishedAt: now }, lastSuccessAt: now, ...over,
    });
    const check = (facts: ResourceSyncFacts[], service?: SyncConfigOverrides, thresholds = limits) => syncsCheck({
      facts, thresholds, now, intervalOf: createScheduleIntervals(),
      configFor: (config) => mergeSyncConfig(DEFAULT_SYNC_CONFIG as SyncConfig, service, (config as { syncConfig?: SyncConfigOverrides }).syncConfig),
    });

    it('overdue after staleAfterIntervals of the shortest enabled schedule importing the resource (its own job or fullSync)', () => {
      // orders every 30 min by default: overdue after 90 min.
      expect(check([fact({ lastSuccessAt: new Date(now.getTime() - 89 * 60_000) })]).status).toBe('healthy');
      expect(check([fact({ lastSuccessAt: new Date(now.getTime() - 91 * 60_000) })]).reason).toBe('overdue: t1/orders (last success 91 min ago, scheduled every 30 min)');
      // Its own job off: the weekly full sync is what imports it.
      const weeklyOnly = { syncConfig: { orders: { enabled: false } } };
      expect(check([fact({ tenantConfig: weeklyOnly, lastSuccessAt: new Date(now.getTime() - 20 * DAY) })]).status).toBe('healthy');
      expect(check([fact({ tenantConfig: weeklyOnly, lastSuccessAt: new Date(now.getTime() - 22 * DAY) })]).overdue).toMatchObject([{ intervalMs: 7 * DAY }]);
      // Nothing schedules it: never overdue. Nor with staleAfterIntervals 0.
      const unscheduled = { syncConfig: { orders: { enabled: false }, fullSync: { enabled: false } } };
      expect(check([fact({ tenantConfig: unscheduled, lastSuccessAt: null })]).status).toBe('healthy');
      expect(check([fact({ lastSuccessAt: null })], undefined, { ...limits, staleAfterIntervals: 0 }).status).toBe('healthy');
    });

    it('a running run is stalled when its lock is gone (unless it runs without one) or past maxRunMs', () => {
      const running = (startedAgoMs: number, lockHeld: boolean, lockless = false) => fact({ latest: { id: 'run', status: 'running', startedAt: new Date(now.getTime() - startedAgoMs), lockHeld, lockless } });
      expect(check([running(60_000, true)]).status).toBe('healthy');
      expect(check([running(60_000, false)]).stalled).toMatchObject([{ why: 'lock-lost' }]);
      expect(check([running(60_000, false, true)]).status).toBe('healthy');
      expect(check([running(7 * HOUR, true)]).stalled).toMatchObject([{ why: 'too-long' }]);
    });

    it('names every tenant with a failed last run, with its error on one line', () => {
      const result = check([
        fact({ finished: { id: 'r9', status: 'failed', error: '[shopify-ingest] HTTP 401\n  at x', errorCode: 'SHOPIFY_HTTP_401', finishedAt: now } }),
        fact({ tenantId: 't2', resource: 'customers' }),
        fact({ tenantId: 't3', resource: 'products', finished: { id: 'r8', status: 'failed', error: null, errorCode: null, finishedAt: null } }),
      ]);
      expect(result.tenants).toEqual(['t1', 't3']);
      expect(result.reason).toBe('failed: t1/orders (HTTP 401 at x), t3/products (no error recorded)');
      expect(result.failing.map((f) => f.code)).toEqual(['SHOPIFY_HTTP_401', null]);
    });
  });

  it('overall: the worst check', () => {
    const ok = { status: 'healthy', reason: 'ok', checkedAt: null } as const;
    const checks = { database: ok, scheduler: ok, webhookWorker: ok, inbox: ok, deadLetters: ok, syncs: ok, credentials: ok } as unknown as HealthChecks;
    expect(overallLevel(checks)).toBe('healthy');
    expect(overallLevel({ ...checks, inbox: { ...ok, status: 'degraded' } } as HealthChecks)).toBe('degraded');
    expect(overallLevel({ ...checks, inbox: { ...ok, status: 'degraded' }, database: { ...ok, status: 'unhealthy' } } as HealthChecks)).toBe('unhealthy');
  });
});
