/**
 * A newcomer who calls the service before migrating (no `initialize()`, or `autoMigrate: false`)
 * gets the documented `DATABASE_NOT_MIGRATED` naming `npx shopify-ingest migrate`, not PostgreSQL's
 * `relation "shopify_tenants" does not exist` wrapped as STORE_FAILED; the health check says the
 * tables are missing instead of "reachable".
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { randomBytes } from 'node:crypto';
import { createIngestionService } from '../../src/service.js';
import { DatabaseSetupError } from '../../src/store/index.js';
import { silentLogger } from '../../src/logger.js';
import { readResourceSyncStates } from '../../src/store/sync-state.js';
import { createTestDatabase, type TestDatabase } from '../helpers/db.js';

const quiet = { logger: silentLogger, scheduler: { enabled: false }, webhooks: { enabled: false }, healthCheckIntervalMs: 0, autoMigrate: false } as const;
let empty: TestDatabase;

beforeAll(async () => { empty = await createTestDatabase({ prefix: 'si_not_migrated', migrate: false }); });
afterAll(async () => { await empty?.drop(); });

function service() {
  return createIngestionService(empty.database, { ...quiet, env: { ENCRYPTION_KEY: randomBytes(32).toString('hex') } });
}

describe('a database without the shopify_* tables', () => {
  it('importData, addTenant and getSyncStatus throw DATABASE_NOT_MIGRATED naming the migrate command', async () => {
    const s = service();
    const calls: Array<[string, () => Promise<unknown>]> = [
      ['importData', () => s.importData('tenant-123', 'orders')],
      ['addTenant', () => s.addTenant('tenant-123', { shopDomain: 'acme.myshopify.com', accessToken: 'shpat_x' })],
      ['getSyncStatus', () => s.getSyncStatus()],
    ];
    for (const [name, call] of calls) {
      const error = await call().then(() => undefined, (e: unknown) => e);
      expect(error, name).toBeInstanceOf(DatabaseSetupError);
      expect(error, name).toMatchObject({ code: 'DATABASE_NOT_MIGRATED' });
      expect((error as Error).message, name).toMatch(/^\[shopify-ingest\] .*the shopify_\* tables are missing \(.*shopify_.*\)\. Run `npx shopify-ingest migrate`/);
    }
    await s.shutdown();
  });

  it('both reads of getSyncStatus say so (it runs them together: whichever fails first is thrown)', async () => {
    const error = await readResourceSyncStates(empty.prisma, ['orders'], new Date()).then(() => undefined, (e: unknown) => e);
    expect(error).toMatchObject({ code: 'DATABASE_NOT_MIGRATED' });
  });

  it('checkHealth reports the database unhealthy because the tables are missing, not "reachable"', async () => {
    const s = service();
    const health = await s.checkHealth();
    expect(health.checks.database.status).toBe('unhealthy');
    expect(health.checks.database.reason).toMatch(/^not migrated: .*shopify_\* tables are missing.*npx shopify-ingest migrate/);
    expect(health.status).toBe('unhealthy');
    await s.shutdown();
  });
});
