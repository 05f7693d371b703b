/**
 * The README's quick start, as a file that runs: Express + Prisma 7 (your generated client over
 * @prisma/adapter-pg) + shopify-ingest.
 *
 *   SHOPIFY_SIMULATOR=1 npm start     first try: a local Shopify (the simulator) as tenant-123
 *   npm start                         a real store: SHOP_DOMAIN and SHOPIFY_ACCESS_TOKEN
 *
 * Needs DATABASE_URL and ENCRYPTION_KEY (and INGEST_API_KEYS for the sync route); see README.md.
 */
import express, { type Request, type Response } from 'express';
import pg from 'pg';
import { PrismaPg } from '@prisma/adapter-pg';
import { PrismaClient } from './generated/prisma/client.js';
import { createDatabaseHandle, createIngestionService, ShopifyIngestError, type DataType } from 'shopify-ingest';

// One pool for your Prisma client and the SDK's batch writes (COPY into staging tables).
const pool = new pg.Pool({ connectionString: process.env.DATABASE_URL });
const adapter = new PrismaPg(pool);
const prisma = new PrismaClient({ adapter });

const shopifyService = createIngestionService(createDatabaseHandle(prisma, { pool }));
await shopifyService.initialize(); // applies the SDK's migrations, checks ENCRYPTION_KEY against stored tenants

const app = express();
shopifyService.setupWebhookEndpoints(app); // POST /api/webhooks/shopify, raw body kept; routes after it get JSON bodies
const auth = shopifyService.createAuthMiddleware();

/** HTTP status for the SDK's typed errors (`error.code` is stable). */
function statusOf(error: unknown): number {
  const code = error instanceof ShopifyIngestError ? error.code : '';
  if (code === 'TENANT_NOT_FOUND') return 404;
  if (code === 'CONFIG_INVALID' || code === 'TENANT_REQUIRED') return 400;
  if (code === 'IMPORT_ALREADY_RUNNING') return 409;
  return 500;
}

app.post('/api/shopify/sync/:tenantId', auth, async (req: Request<{ tenantId: string }>, res: Response) => {
  const { dataType = 'all', ...options } = (req.body ?? {}) as { dataType?: DataType } & Record<string, unknown>;
  try {
    const result = await shopifyService.importData(req.params.tenantId, dataType, options);
    res.json({ success: true, result });
  } catch (error) {
    const status = statusOf(error);
    if (status === 500) console.error(error);
    res.status(status).json({ success: false, code: (error as ShopifyIngestError).code ?? 'INTERNAL', error: (error as Error).message });
  }
});

app.get('/api/shopify/orders/:tenantId', auth, async (req: Request<{ tenantId: string }>, res: Response) => {
  const orders = await prisma.shopifyOrder.findMany({
    where: { tenantId: req.params.tenantId, deletedAt: null },
    include: { lineItems: true },
    orderBy: { id: 'asc' },
    take: 20,
  });
  // Shopify ids are BigInt (exact beyond 2^53): send them as strings.
  res.type('json').send(JSON.stringify({ orders }, (_key, value) => (typeof value === 'bigint' ? value.toString() : value)));
});

let stopSimulator: (() => Promise<void>) | undefined;
if (process.env.SHOPIFY_SIMULATOR === '1') {
  // First try: a local Shopify with generated data, so nothing real is needed yet.
  const { createShopifySimulator } = await import('shopify-ingest/testing');
  // Signed with your SHOPIFY_API_SECRET, the simulator's webhooks verify at /api/webhooks/shopify.
  const simulator = await createShopifySimulator({ shops: [{ domain: 'quick-start.myshopify.com', orders: 200 }], unthrottled: true, apiSecret: process.env.SHOPIFY_API_SECRET });
  stopSimulator = () => simulator.stop();
  const shop = simulator.shops[0]!;
  await shopifyService.addTenant('tenant-123', { shopDomain: shop.domain, accessToken: shop.accessToken }, { client: { baseUrl: simulator.url } });
} else if (process.env.SHOP_DOMAIN && process.env.SHOPIFY_ACCESS_TOKEN) {
  await shopifyService.addTenant('tenant-123', { shopDomain: process.env.SHOP_DOMAIN, accessToken: process.env.SHOPIFY_ACCESS_TOKEN });
}

const server = app.listen(Number(process.env.PORT ?? 3000), () => {
  const address = server.address();
  const port = typeof address === 'object' && address ? address.port : process.env.PORT;
  console.log(`listening on http://127.0.0.1:${port}`);
});

async function shutdown(): Promise<void> {
  server.close();
  await shopifyService.shutdown();
  await stopSimulator?.();
  await prisma.$disconnect();
}
process.once('SIGTERM', () => void shutdown());
process.once('SIGINT', () => void shutdown());
