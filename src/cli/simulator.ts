import { createShopifySimulator } from '../testing/index.js';
import { EXIT, UsageError } from './exit.js';
import type { CliContext } from './commands.js';

function count(values: Record<string, string | boolean | undefined>, name: string, fallback: number): number {
  const raw = values[name];
  if (raw === undefined) return fallback;
  const n = Number(raw);
  if (!Number.isInteger(n) || n < 0) throw new UsageError(`--${name} must be a whole number (got ${String(raw)})`);
  return n;
}

/**
 * `shopify-ingest simulator`: runs the Shopify simulator until interrupted and prints how to reach it.
 */
export async function runSimulator({ ctx, values, signal }: { ctx: CliContext; values: Record<string, string | boolean | undefined>; signal?: AbortSignal }): Promise<number> {
  const orders = count(values, 'orders', 10_000);
  const simulator = await createShopifySimulator({
    port: count(values, 'port', 0),
    seed: count(values, 'seed', 1),
    https: Boolean(values.https),
    timeScale: values['time-scale'] !== undefined ? Number(values['time-scale']) : 1,
    apiSecret: ctx.env.SHOPIFY_API_SECRET,
    shops: count(values, 'shops', 3),
    shopDefaults: {
      orders,
      customers: count(values, 'customers', Math.max(10, Math.round(orders / 4))),
      products: count(values, 'products', Math.max(5, Math.round(orders / 40))),
    },
  });
  const shops = simulator.shops.map((s) => ({ domain: s.domain, accessToken: s.accessToken, baseUrl: s.baseUrl }));
  if (ctx.json) {
    ctx.stdout.write(`${JSON.stringify({ url: simulator.url, shops })}\n`);
  } else {
    ctx.stdout.write(`Shopify simulator listening on ${simulator.url}\n`);
    for (const s of shops) ctx.stdout.write(`  ${s.domain}  token ${s.accessToken}\n`);
    ctx.stdout.write(`\nConnect a tenant:\n  npx shopify-ingest tenants add my-tenant --shop ${shops[0]?.domain} --token ${shops[0]?.accessToken} --base-url ${simulator.url}\n`);
    ctx.stdout.write('Press Ctrl+C to stop.\n');
  }
  await new Promise<void>((resolve) => {
    const stop = () => resolve();
    process.once('SIGINT', stop);
    process.once('SIGTERM', stop);
    signal?.addEventListener('abort', stop, { once: true });
  });
  await simulator.stop();
  return EXIT.ok;
}
