import { authGuard, errorResponse, getIngestion, shopOf } from '../../../../../lib/ingestion';

export const runtime = 'nodejs';
export const dynamic = 'force-dynamic';

type DataType = 'customers' | 'products' | 'orders' | 'all';
type Context = { params: Promise<{ tenantId: string }> };

/** POST /api/shopify/sync/:tenantId  body: { "dataType": "all" | "customers" | "products" | "orders", ...importOptions } */
export async function POST(request: Request, context: Context): Promise<Response> {
  const guard = authGuard();
  return guard.protect(async (req: Request) => {
    const { tenantId } = await context.params;
    const { service } = await getIngestion();
    const shop = shopOf(guard.principalOf(req));
    if (shop !== undefined && (await service.getTenant(tenantId))?.shopDomain !== shop) {
      return Response.json({ error: 'forbidden' }, { status: 403 });
    }
    const { dataType = 'all', ...options } = (await req.json().catch(() => ({}))) as { dataType?: DataType } & Record<string, unknown>;
    try {
      const result = await service.importData(tenantId, dataType, options);
      return Response.json({ success: true, result }, { headers: { 'cache-control': 'no-store' } });
    } catch (error) {
      return errorResponse(error, service);
    }
  })(request);
}
