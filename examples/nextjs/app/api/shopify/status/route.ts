import { authGuard, getIngestion } from '../../../../lib/ingestion';

export const runtime = 'nodejs';
export const dynamic = 'force-dynamic';

/** GET /api/shopify/status: per-tenant sync status and service health. */
export async function GET(request: Request): Promise<Response> {
  return authGuard().protect(async () => {
    const { service } = await getIngestion();
    const [tenants, statistics] = await Promise.all([service.getSyncStatus(), service.getStatistics()]);
    return Response.json({ health: service.getHealthStatus(), tenants, statistics }, { headers: { 'cache-control': 'no-store' } });
  })(request);
}
