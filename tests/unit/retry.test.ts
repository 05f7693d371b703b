/** The SDK's one retry policy: what is retried for each kind, how long it waits, when it gives up. */
import { describe, expect, it } from 'vitest';
import { ShopifyIngestError } from '../../src/errors.js';
import { backoffDelay, isRetryable, retrying } from '../../src/retry.js';
import { storeFailure } from '../../src/store/store-errors.js';

const policy = { retries: 3, factor: 2, minTimeout: 100, maxTimeout: 300 };
const pgError = (code: string) => Object.assign(new Error(`pg ${code}`), { code });

describe('isRetryable', () => {
  it('requests: only SDK errors that say so', () => {
    expect(isRetryable(new ShopifyIngestError('SHOPIFY_HTTP_503', 'x', { retryable: true }), 'request')).toBe(true);
    expect(isRetryable(new ShopifyIngestError('SHOPIFY_HTTP_404', 'x'), 'request')).toBe(false);
    expect(isRetryable(new Error('bug'), 'request')).toBe(false);
  });

  it('writes: anything but an SDK error marked not retryable', () => {
    expect(isRetryable(new Error('connection reset'), 'write')).toBe(true);
    expect(isRetryable(new ShopifyIngestError('TENANT_MISMATCH', 'x'), 'write')).toBe(false);
    expect(isRetryable(new ShopifyIngestError('STORE_FAILED', 'x', { retryable: true }), 'write')).toBe(true);
    expect(isRetryable(new TypeError("Cannot read properties of undefined (reading 'id')"), 'write')).toBe(false);
    expect(isRetryable(new TypeError('fetch failed'), 'write')).toBe(true);
  });

  it('store failures: retried unless PostgreSQL or the SDK named a condition that does not pass', () => {
    const write = (error: unknown, code?: 'ORPHAN_ROWS') => isRetryable(storeFailure('upsertOrders', 't1', error, {}, code), 'write');
    expect(write(pgError('08006'))).toBe(true);       // connection failure
    expect(write(pgError('40P01'))).toBe(true);       // deadlock
    expect(write(new Error('Connection terminated unexpectedly'))).toBe(true); // no SQLSTATE: may pass
    expect(write(pgError('23505'))).toBe(false);      // unique violation
    expect(write(pgError('42P01'))).toBe(false);      // missing table
    expect(write(new Error('line items without their orders'), 'ORPHAN_ROWS')).toBe(false);
  });

  it('conflicts: deadlock and serialisation aborts only', () => {
    expect(isRetryable(pgError('40P01'), 'conflict')).toBe(true);
    expect(isRetryable(pgError('40001'), 'conflict')).toBe(true);
    expect(isRetryable(pgError('23505'), 'conflict')).toBe(false);
    expect(isRetryable(new Error('x'), 'conflict')).toBe(false);
  });
});

describe('retrying', () => {
  it('backs off exponentially up to the cap, then throws the last error as it was', async () => {
    const waits: number[] = [];
    const last = new Error('still down');
    let calls = 0;
    const error = await retrying(async () => { calls++; throw calls === 4 ? last : new Error('down'); }, { policy, kind: 'write', sleep: async (ms) => { waits.push(ms); } }).catch((e) => e);
    expect(error).toBe(last);
    expect(calls).toBe(4);
    expect(waits).toEqual([100, 200, 300]);
    expect([0, 1, 2, 3].map((n) => backoffDelay(policy, n))).toEqual([100, 200, 300, 300]);
  });

  it('fails at once on an error its kind does not retry, and succeeds when a retry does', async () => {
    const refused = new ShopifyIngestError('SHOPIFY_HTTP_401', 'no');
    let calls = 0;
    await expect(retrying(async () => { calls++; throw refused; }, { policy, kind: 'request', sleep: async () => {} })).rejects.toBe(refused);
    expect(calls).toBe(1);
    const attempts: number[] = [];
    const value = await retrying(async (n) => { attempts.push(n); if (n < 3) throw new ShopifyIngestError('SHOPIFY_TIMEOUT', 't', { retryable: true }); return 'ok'; }, { policy, kind: 'request', sleep: async () => {} });
    expect(value).toBe('ok');
    expect(attempts).toEqual([1, 2, 3]);
  });

  it('lets the caller stretch a delay (Retry-After) and reports each retry', async () => {
    const waits: number[] = [];
    const seen: Array<[number, number]> = [];
    let calls = 0;
    await retrying(async () => { if (++calls < 3) throw new ShopifyIngestError('SHOPIFY_THROTTLED', 't', { retryable: true }); }, {
      policy, kind: 'request', sleep: async (ms) => { waits.push(ms); },
      delayFor: (_error, backoff) => Math.max(backoff, 250),
      onRetry: (_error, attempt, delay) => seen.push([attempt, delay]),
    });
    expect(waits).toEqual([250, 250]);
    expect(seen).toEqual([[1, 250], [2, 250]]);
  });

  it('stops when its signal fires', async () => {
    const controller = new AbortController();
    const error = await retrying(async () => { controller.abort(new Error('stop')); throw new Error('down'); }, { policy, kind: 'write', sleep: async () => {}, signal: controller.signal }).catch((e) => e);
    expect((error as Error).message).toMatch(/stop|down/);
  });
});
