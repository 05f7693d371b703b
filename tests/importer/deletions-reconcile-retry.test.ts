/**
 * docs/importing.md, "Deletions webhooks missed": "A probe that fails (an API error, an incomplete
 * listing) does not fail the sync: ... the failure is in the run's warnings and the checkpoint's
 * deletionError, and the next run probes the same span again." A failed id reconciliation (full
 * syncs only) runs again on the next run even when that one is incremental.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { connectTenant, createHarness, importer, type Harness } from '../importer/harness.js';

let h: Harness;
const BULK = { minPollMs: 10, maxPollMs: 50, minWindowMs: 60_000 };
beforeAll(async () => {
  h = await createHarness({ timeScale: 50, bulk: { startDelayMs: 50, rowsPerSecond: 50_000 }, shops: [{ customers: 30, products: 0, orders: 0 }] });
});
afterAll(async () => { await h?.close(); });

describe('failed id reconciliation', { timeout: 120_000 }, () => {
  it('is run again by the next run, incremental as it is, and its error cleared only then', async () => {
    const { client, shop } = await connectTenant(h, 'rr1', 0);
    // An API error on the id-only bulk operation (and only on it) while `failIds` is set.
    let failIds = false;
    const faulty = Object.create(client) as typeof client;
    faulty.graphql = (async (query: string, variables?: Record<string, unknown>, options?: { signal?: AbortSignal }) => {
      if (failIds && /bulkOperationRunQuery/.test(query) && /\{ customers \{ edges \{ node \{ id \} \} \} \}/.test(String(variables?.query ?? ''))) {
        throw new Error('simulated 503 on the id listing');
      }
      return client.graphql(query, variables, options);
    }) as typeof client.graphql;
    const service = importer(h, faulty, 'rr1', { bulk: BULK });
    expect(await service.importCustomers()).toMatchObject({ status: 'succeeded', mode: 'full' });

    // A customer deleted at Shopify, no webhook delivered.
    const gone = String(shop.idOf('customers', 3));
    shop.delete('customers', gone);

    failIds = true;
    const full = await service.importCustomers({ mode: 'full' });
    expect(full.status).toBe('succeeded');
    expect(full.warnings.join(' ')).toMatch(/deletion probe failed/);
    const after1 = (await h.db.query<{ deletion_error: string | null }>(`SELECT deletion_error FROM shopify_sync_checkpoints WHERE tenant_id = 'rr1' AND resource = 'customers'`))[0];
    expect(after1.deletion_error).toMatch(/simulated 503/);

    failIds = false;
    const next = await service.importCustomers();
    expect(next).toMatchObject({ status: 'succeeded', mode: 'incremental' });
    const cp = (await h.db.query<{ deletion_error: string | null }>(`SELECT deletion_error FROM shopify_sync_checkpoints WHERE tenant_id = 'rr1' AND resource = 'customers'`))[0];
    const row = (await h.db.query<{ gone: boolean }>(`SELECT deleted_at IS NOT NULL AS gone FROM shopify_customers WHERE tenant_id = 'rr1' AND id = $1`, [gone]))[0];
    // The failed reconciliation ran again: the customer is tombstoned, and the error is gone with it.
    expect({ gone: row.gone, error: cp.deletion_error }).toEqual({ gone: true, error: null });
  });
});
