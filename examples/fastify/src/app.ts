/**
 * A Fastify app that syncs Shopify stores into PostgreSQL with shopify-ingest:
 * Shopify webhooks in, a protected "sync now" route, a protected status route, a health check.
 */
import Fastify, { type FastifyInstance, type FastifyServerOptions, type preHandlerHookHandler } from 'fastify';
import { createIngestionService, type AuthPrincipal, type IngestionService, type IngestionServiceOptions } from 'shopify-ingest';
import { createDatabase } from 'shopify-ingest/prisma';
import { shopifyWebhooksPlugin } from 'shopify-ingest/fastify';

type Prisma = Parameters<typeof createIngestionService>[0] & { $disconnect(): Promise<void> };
type DataType = 'customers' | 'products' | 'orders' | 'all';

export interface AppOptions {
  /** Your PrismaClient (with a driver adapter). Default: `createDatabase()` (DATABASE_URL, else embedded). */
  prisma?: Prisma;
  /** Where configuration is read from (default `process.env`). */
  env?: Record<string, string | undefined>;
  /** Anything else for `createIngestionService` (logger, scheduler, webhooks, ...). */
  service?: Omit<IngestionServiceOptions, 'env'>;
  /** Fastify's own options (logger, trustProxy, ...). */
  fastify?: FastifyServerOptions;
}

export interface ExampleApp {
  app: FastifyInstance;
  service: IngestionService;
  /** Closes Fastify, then stops the service (imports finish, webhook inbox drains) and the database it opened. */
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
  const shopOf = (request: object) => {
    const principal = (request as { shopifyIngestAuth?: AuthPrincipal }).shopifyIngestAuth;
    return principal?.type === 'session-token' ? principal.shop : undefined;
  };
  const mayAccessTenant = async (request: object, tenantId: string) => {
    const shop = shopOf(request);
    return shop === undefined || (await service.getTenant(tenantId))?.shopDomain === shop;
  };

  const app = Fastify(options.fastify);

  // The plugin keeps the raw body for the HMAC check inside its own encapsulated context;
  // every other route keeps Fastify's JSON parser.
  await app.register(shopifyWebhooksPlugin, { service: service.webhooks, path: WEBHOOK_PATH });

  // Shopify session tokens (SHOPIFY_API_KEY + SHOPIFY_API_SECRET) and/or INGEST_API_KEYS,
  // used as a preHandler hook.
  const auth = service.createAuthMiddleware() as unknown as preHandlerHookHandler;

  app.post<{ Params: { tenantId: string }; Body: ({ dataType?: DataType } & Record<string, unknown>) | undefined }>(
    '/api/shopify/sync/:tenantId',
    { preHandler: auth },
    async (request, reply) => {
      if (!(await mayAccessTenant(request, request.params.tenantId))) return reply.code(403).send({ error: 'forbidden' });
      const { dataType = 'all', ...importOptions } = request.body ?? {};
      const result = await service.importData(request.params.tenantId, dataType, importOptions);
      return { success: true, result };
    },
  );

  app.get('/api/shopify/status', { preHandler: auth }, async (request) => {
    const shop = shopOf(request);
    const tenants = (await service.getSyncStatus()).filter((t) => shop === undefined || t.shopDomain === shop);
    // Totals span every tenant: operators only.
    const statistics = shop === undefined ? await service.getStatistics() : undefined;
    // Health names every tenant (failing syncs, dead letters): its detail is an operator's too.
    const health = service.getHealthStatus();
    return { health: shop === undefined ? health : { status: health.status }, tenants, statistics };
  });

  // For load balancers: no auth, no detail beyond the status.
  app.get('/healthz', async (_request, reply) => {
    const health = await service.checkHealth();
    return reply.code(health.status === 'unhealthy' ? 503 : 200).send({ status: health.status });
  });

  app.setErrorHandler((error: Error & { code?: string; statusCode?: number }, _request, reply) => {
    const status = error.code === 'TENANT_NOT_FOUND' ? 404
      : ['TENANT_INACTIVE', 'TENANT_REQUIRED', 'CONFIG_INVALID'].includes(error.code ?? '') ? 400
      : error.code === 'IMPORT_ALREADY_RUNNING' ? 409 // another run is importing this resource; retry later
      : error.code === 'SERVICE_STOPPING' ? 503
      : error.statusCode && error.statusCode < 500 ? error.statusCode : 500;
    if (status === 500) service.logger.error('request failed', { error });
    return reply.code(status).send({ success: false, error: { code: error.code ?? 'INTERNAL', message: status === 500 ? 'internal error' : error.message } });
  });

  // Stop the service when Fastify closes (app.close() on SIGTERM, or in tests).
  app.addHook('onClose', async () => {
    await service.shutdown({ timeoutMs: 10_000 });
    if (!options.prisma) await prisma.$disconnect();
  });

  return { app, service, close: () => app.close() };
}
