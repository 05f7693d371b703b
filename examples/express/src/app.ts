/**
 * An Express app that syncs Shopify stores into PostgreSQL with shopify-ingest:
 * Shopify webhooks in, a protected "sync now" route, a protected status route, a health check.
 */
import express, { type Express, type NextFunction, type Request, type Response } from 'express';
import { createIngestionService, type AuthPrincipal, type IngestionService, type IngestionServiceOptions } from 'shopify-ingest';
import { createDatabase } from 'shopify-ingest/prisma';
import { shopifyWebhooks } from 'shopify-ingest/express';

type Prisma = Parameters<typeof createIngestionService>[0] & { $disconnect(): Promise<void> };
type DataType = 'customers' | 'products' | 'orders' | 'all';
/** Set by the auth middleware on success. */
type AuthedRequest<P = Record<string, string>> = Request<P> & { shopifyIngestAuth?: AuthPrincipal };

export interface AppOptions {
  /** Your PrismaClient (with a driver adapter). Default: `createDatabase()` (DATABASE_URL, else embedded). */
  prisma?: Prisma;
  /** Where configuration is read from (default `process.env`). */
  env?: Record<string, string | undefined>;
  /** Anything else for `createIngestionService` (logger, scheduler, webhooks, ...). */
  service?: Omit<IngestionServiceOptions, 'env'>;
}

export interface ExampleApp {
  app: Express;
  service: IngestionService;
  /** Stops the service (imports finish, webhook inbox drains) and closes the database it opened. */
  close(): Promise<void>;
}

export const WEBHOOK_PATH = '/api/webhooks/shopify';

export async function createApp(options: AppOptions = {}): Promise<ExampleApp> {
  const env = options.env ?? process.env;
  const prisma = options.prisma ?? await createDatabase({ env });
  const service = createIngestionService(prisma, { ...options.service, env });
  await service.initialize();
  if (!service.webhooks) {
    await service.shutdown();
    if (!options.prisma) await prisma.$disconnect();
    throw new Error('SHOPIFY_API_SECRET is required: it verifies the webhooks this app receives');
  }

  /**
   * A session token is issued for one shop: it may reach that shop's tenant and no other.
   * A static key (INGEST_API_KEYS) is an operator's and reaches every tenant.
   */
  const shopOf = (principal: AuthPrincipal | undefined) => (principal?.type === 'session-token' ? principal.shop : undefined);
  const mayAccessTenant = async (principal: AuthPrincipal | undefined, tenantId: string) => {
    const shop = shopOf(principal);
    return shop === undefined || (await service.getTenant(tenantId))?.shopDomain === shop;
  };

  const app = express();
  app.disable('x-powered-by');

  // The webhook route goes BEFORE express.json(): the HMAC is computed over the raw bytes.
  // (`service.setupWebhookEndpoints(app)` does the same in one line.)
  app.post(WEBHOOK_PATH, shopifyWebhooks(service.webhooks));
  app.use(express.json());

  // Shopify session tokens (SHOPIFY_API_KEY + SHOPIFY_API_SECRET) and/or INGEST_API_KEYS.
  const auth = service.createAuthMiddleware();

  app.post('/api/shopify/sync/:tenantId', auth, async (req: AuthedRequest<{ tenantId: string }>, res: Response) => {
    if (!(await mayAccessTenant(req.shopifyIngestAuth, req.params.tenantId))) {
      res.status(403).json({ error: 'forbidden' });
      return;
    }
    const { dataType = 'all', ...importOptions } = (req.body ?? {}) as { dataType?: DataType } & Record<string, unknown>;
    const result = await service.importData(req.params.tenantId, dataType, importOptions);
    res.json({ success: true, result });
  });

  app.get('/api/shopify/status', auth, async (req: AuthedRequest, res: Response) => {
    const shop = shopOf(req.shopifyIngestAuth);
    const tenants = (await service.getSyncStatus()).filter((t) => shop === undefined || t.shopDomain === shop);
    // Totals span every tenant: operators only.
    const statistics = shop === undefined ? await service.getStatistics() : undefined;
    // Health names every tenant (failing syncs, dead letters): its detail is an operator's too.
    const health = service.getHealthStatus();
    res.json({ health: shop === undefined ? health : { status: health.status }, tenants, statistics });
  });

  // For load balancers: no auth, no detail beyond the status.
  app.get('/healthz', async (_req: Request, res: Response) => {
    const health = await service.checkHealth();
    res.status(health.status === 'unhealthy' ? 503 : 200).json({ status: health.status });
  });

  // Express 5 forwards rejected promises here.
  app.use((error: Error & { code?: string; status?: number }, _req: Request, res: Response, _next: NextFunction) => {
    const status = error.code === 'TENANT_NOT_FOUND' ? 404
      : ['TENANT_INACTIVE', 'TENANT_REQUIRED', 'CONFIG_INVALID'].includes(error.code ?? '') ? 400
      : error.code === 'IMPORT_ALREADY_RUNNING' ? 409 // another run is importing this resource; retry later
      : error.code === 'SERVICE_STOPPING' ? 503
      : error.status && error.status < 500 ? error.status // e.g. express.json() on a malformed body
      : 500;
    if (status === 500) service.logger.error('request failed', { error });
    res.status(status).json({ success: false, error: { code: error.code ?? 'INTERNAL', message: status === 500 ? 'internal error' : error.message } });
  });

  return {
    app,
    service,
    async close() {
      await service.shutdown({ timeoutMs: 10_000 });
      if (!options.prisma) await prisma.$disconnect();
    },
  };
}
