import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTestDatabase, type TestDatabase } from '../helpers/db.js';
import { connectTenant, createHarness, databaseImage, importer, type Harness } from './harness.js';

let h: Harness;
let clean: TestDatabase;
beforeAll(async () => {
  // Rate-limited like a real shop (40-request bucket), time-scaled so 429 waits are short.
  h = await createHarness({ unthrottled: false, timeScale: 20, shops: [{ customers: 150, products: 50, orders: 500 }] });
  clean = await createTestDatabase({ prefix: 'si_importer_clean' });
});
afterAll(async () => { await clean?.drop(); await h?.close(); });

describe('a REST sync through 5xx errors, connection resets and 429 storms', { timeout: 300_000 }, () => {
  it('ends with exactly the database a clean run produces', async () => {
    const { client } = await connectTenant(h, 'tenant-f');
    // A scripted start guarantees each kind at least once; then 5% 5xx, 2% resets, 3% storms at random.
    h.sim.faults.configure({ script: ['server_error', 'none', 'reset', 'none', 'storm'], rates: { server_error: 0.05, reset: 0.02, storm: 0.03 } });
    h.sim.resetStats();
    const faulty = await importer(h, client, 'tenant-f', { defaults: { source: 'rest' } }).importAll({ pageSize: 10, batchSize: 40 });
    const stats = h.sim.stats(0);
    h.sim.faults.clear();
    expect(faulty.orders).toMatchObject({ status: 'succeeded', fetched: 500, imported: 500, failed: 0 });
    expect(stats.faults.server_error ?? 0).toBeGreaterThan(0);
    expect(stats.faults.reset ?? 0).toBeGreaterThan(0);
    expect(stats.throttled).toBeGreaterThan(0);
    expect(stats.restRequests).toBeGreaterThan(100);

    const cleanHarness = { ...h, db: clean };
    const { client: cleanClient } = await connectTenant(cleanHarness, 'tenant-f');
    await importer(cleanHarness, cleanClient, 'tenant-f', { defaults: { source: 'rest' } }).importAll();
    const image = await databaseImage(h, 'tenant-f');
    expect(image.orders.length).toBe(500);
    expect(image).toEqual(await databaseImage(cleanHarness, 'tenant-f'));
  });
});
