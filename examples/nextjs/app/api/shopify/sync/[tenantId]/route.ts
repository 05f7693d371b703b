import { authGuard, getIngestion } from '../../../../../lib/ingestion';

export const runtime = 'nodejs';
export const dynamic = 'force-dynamic';

type DataType = 'customers' | 'products' | 'orders' | 'all';
type Context = { params: Promise<{ tenantId: string }> };

/** POST /api/shopify/sync/:tenantId  body: { "dataType": "all" | "customers" | "products" | "orders", ...importOptions } */
export async function POST(request: Request, context: Context): Promise<Response> {
  return authGuard().protect(async (req: Request) => {
    const { tenantId } = await context.params;
    const body = (await req.json().catch(() => ({}))) as { dataType?: DataType } & Record<string, unknown>;
    const { dataType = 'all', ...options } = body;
    const { service } = await getIngestion();
    try {
      const result = await service.importData(tenantId, dataType, options);
      return Response.json({ success: true, result }, { headers: { 'cache-control': 'no-store' } });
    } catch (error) {
      const { code, message } = error as { code?: string; message: string };
      return Response.json({ success: false, error: { code, message } }, { status: code === 'TENANT_NOT_FOUND' ? 404 : 400 });
    }
  })(request);
}
