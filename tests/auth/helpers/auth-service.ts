/**
 * The ingestion service on a real database and a simulator whose token endpoint knows the app: what
 * the credential tests share. Registers its own beforeAll/afterAll in the calling file; the returned
 * object's `db`, `sim` and `service` are set once beforeAll ran.
 */
import { randomBytes } from 'node:crypto';
import { afterAll, beforeAll } from 'vitest';
import { createKeyRing, type KeyRing } from '../../../src/crypto/index.js';
import { createIngestionService, type IngestionService } from '../../../src/index.js';
import { RESOURCE_NAMES } from '../../../src/resources/index.js';
import { createShopifySimulator, type ShopifySimulator } from '../../../src/testing/index.js';
import { createTestDatabase, type TestDatabase } from '../../helpers/db.js';

type SimulatorOptions = NonNullable<Parameters<typeof createShopifySimulator>[0]>;
type ServiceOptions = NonNullable<Parameters<typeof createIngestionService>[1]>;

export interface AuthService {
  db: TestDatabase;
  sim: ShopifySimulator;
  service: IngestionService;
  /** The key ring of the service's `ENCRYPTION_KEY`. */
  readonly keyRing: KeyRing;
  /** The app the service is configured with (`SHOPIFY_API_KEY` / `SHOPIFY_API_SECRET`). */
  readonly clientId: string;
  readonly secret: string;
}

/** Schedules that never fire within a test. */
const QUIET = '0 0 1 1 *';
const quiet = { ...Object.fromEntries(RESOURCE_NAMES.map((name) => [name, { schedule: QUIET }])), fullSync: { schedule: QUIET } };

export function useAuthService(options: {
  /** Test database name prefix. */
  prefix: string;
  clientId: string;
  seed: number;
  shops: SimulatorOptions['shops'];
  /** The simulator's token endpoint (default: it knows `clientId` with the app's secret). */
  oauth?: SimulatorOptions['oauth'];
  /** Further service options (e.g. `tokenRenewal`). */
  service?: Partial<ServiceOptions>;
}): AuthService {
  const key = randomBytes(32).toString('hex');
  const secret = `${options.prefix}_${randomBytes(6).toString('hex')}`;
  const harness = { keyRing: createKeyRing({ key }), clientId: options.clientId, secret } as AuthService;
  beforeAll(async () => {
    harness.db = await createTestDatabase({ prefix: options.prefix });
    harness.sim = await createShopifySimulator({ seed: options.seed, unthrottled: true, apiSecret: secret, oauth: options.oauth ?? { clientId: options.clientId }, shops: options.shops });
    harness.service = createIngestionService(harness.db.database, {
      env: { ENCRYPTION_KEY: key, SHOPIFY_API_KEY: options.clientId, SHOPIFY_API_SECRET: secret, LOG_LEVEL: 'silent' },
      scheduler: { enabled: false, syncConfig: quiet }, healthCheckIntervalMs: 0,
      clientDefaults: { retryOptions: { retries: 0, minTimeout: 10, maxTimeout: 50 } },
      ...options.service,
    });
    await harness.service.initialize();
  }, 60_000);
  afterAll(async () => {
    await harness.service?.shutdown({ timeoutMs: 1000 }).catch(() => {});
    await harness.sim?.stop();
    await harness.db?.drop();
  });
  return harness;
}
