/**
 * One ingestion service per server process, shared by every route handler.
 *
 * Route modules are evaluated once per process in production but re-evaluated on every edit in
 * `next dev`; keeping the promise on `globalThis` stops hot reloads from opening a new database
 * pool and a second webhook worker each time.
 */
import { createIngestionService, createWebAuthGuard, type AuthPrincipal, type IngestionService } from 'shopify-ingest';
import { createDatabase } from 'shopify-ingest/prisma';

interface Ingestion {
  service: IngestionService;
  disconnect(): Promise<void>;
}

const globalKey = Symbol.for('shopify-ingest.example.nextjs');
type Holder = { [globalKey]?: Promise<Ingestion> };

async function start(): Promise<Ingestion> {
  // DATABASE_URL when set, otherwise the embedded database in ./.shopify-ingest/db.
  const prisma = await createDatabase();
  const service = createIngestionService(prisma, { scheduler: { enabled: process.env.SCHEDULER !== 'off' } });
  await service.initialize();
  if (!service.webhooks) throw new Error('SHOPIFY_API_SECRET is required: it verifies the webhooks this app receives');

  // On SIGTERM, let running imports checkpoint and the webhook inbox drain before the pool closes.
  // Run the server with NEXT_MANUAL_SIG_HANDLE=true so Next leaves the exit to this handler
  // (https://nextjs.org/docs/app/guides/self-hosting#manual-graceful-shutdowns).
  let stopping = false;
  process.on('SIGTERM', () => {
    if (stopping) return;
    stopping = true;
    void service.shutdown({ timeoutMs: 10_000 }).finally(() => prisma.$disconnect()).finally(() => process.exit(0));
  });
  return { service, disconnect: () => prisma.$disconnect() };
}

/** The process-wide service, initialized on first use. */
export function getIngestion(): Promise<Ingestion> {
  const holder = globalThis as Holder;
  holder[globalKey] ??= start().catch((error: unknown) => {
    delete holder[globalKey]; // let the next request retry instead of caching the failure
    throw error;
  });
  return holder[globalKey];
}

/**
 * What `createNextWebhookHandler` needs, resolved lazily: the route module can export `POST`
 * synchronously while the service initializes on the first delivery.
 */
export const webhookEndpoint = {
  async handler(request: Request): Promise<Response> {
    const { service } = await getIngestion();
    return service.webhooks!.handler(request); // checked in start()
  },
};

/**
 * Protects the sync and status routes: Shopify session tokens (SHOPIFY_API_KEY + SHOPIFY_API_SECRET)
 * and/or static keys from INGEST_API_KEYS. Built on first use so `next build` needs no secrets.
 */
let guard: ReturnType<typeof createWebAuthGuard> | undefined;
export function authGuard(): ReturnType<typeof createWebAuthGuard> {
  guard ??= createWebAuthGuard();
  return guard;
}

/**
 * The shop a session token was issued for (undefined for a static key: an operator's, which
 * reaches every tenant). A session token may reach its own shop's tenant and no other.
 */
export function shopOf(principal: AuthPrincipal | undefined): string | undefined {
  return principal?.type === 'session-token' ? principal.shop : undefined;
}

/** An error from the service as a JSON response, without internals for unexpected ones. */
export function errorResponse(error: unknown, service: IngestionService): Response {
  const { code = 'INTERNAL', message } = error as { code?: string; message: string };
  const status = code === 'TENANT_NOT_FOUND' ? 404
    : ['TENANT_INACTIVE', 'TENANT_REQUIRED', 'CONFIG_INVALID'].includes(code) ? 400
    : code === 'IMPORT_ALREADY_RUNNING' ? 409 // another run is importing this resource; retry later
    : code === 'SERVICE_STOPPING' ? 503 : 500;
  if (status === 500) service.logger.error('request failed', { error });
  return Response.json({ success: false, error: { code, message: status === 500 ? 'internal error' : message } }, { status });
}
