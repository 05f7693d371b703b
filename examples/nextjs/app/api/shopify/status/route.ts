import { authGuard, getIngestion, shopOf } from '../../../../lib/ingestion';

export const runtime = 'nodejs';
export const dynamic = 'force-dynamic';

/** GET /api/shopify/status: sync status and health (a session token sees its own shop only). */
export async function GET(request: Request): Promise<Response> {
  const guard = authGuard();
  return guard.protect(async (req: Request) => {
    const { service } = await getIngestion();
    const shop = shopOf(guard.principalOf(req));
    const tenants = (await service.getSyncStatus()).filter((t) => shop === undefined || t.shopDomain === shop);
    // Totals span every tenant: operators only.
    const statistics = shop === undefined ? await service.getStatistics() : undefined;
    // Health names every tenant (failing syncs, dead letters): its detail is an operator's too.
    const health = service.getHealthStatus();
    return Response.json({ health: shop === undefined ? health : { status: health.status }, tenants, statistics }, { headers: { 'cache-control': 'no-store' } });
  })(request);
}
