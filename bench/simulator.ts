/**
 * What the Shopify simulator itself can serve, so other benchmarks know it is not their bottleneck.
 *
 *   npx tsx bench/simulator.ts
 *
 * 1. Start-up and memory of a shop of 1,000,000 orders; count.json and a page near the end.
 * 2. REST throughput: pages of 250 orders (about 10 KB each, like Shopify's), unthrottled,
 *    1 and 4 concurrent walkers.
 * 3. GraphQL: pages of 250 order nodes with line items.
 * 4. Webhook deliveries per second to a local receiver.
 */
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { createShopifySimulator } from '../src/testing/index.js';

const API = '/admin/api/2025-10';
const mb = (n: number) => `${(n / 1024 / 1024).toFixed(0)} MB`;

async function main(): Promise<void> {
  const rss0 = process.memoryUsage().rss;
  let t = performance.now();
  const sim = await createShopifySimulator({ shops: [{ orders: 1_000_000, customers: 100_000, products: 2_000 }], unthrottled: true });
  const shop = sim.shops[0];
  const headers = { 'X-Shopify-Access-Token': shop.accessToken };
  console.log(`1M-order shop: started in ${(performance.now() - t).toFixed(0)} ms`);
  t = performance.now();
  const count = (await (await fetch(`${sim.url}${API}/orders/count.json`, { headers })).json()) as { count: number };
  console.log(`  count.json (status=open, first call scans statuses): ${count.count} in ${(performance.now() - t).toFixed(0)} ms`);
  t = performance.now();
  await (await fetch(`${sim.url}${API}/orders/count.json`, { headers })).json();
  console.log(`  count.json again: ${(performance.now() - t).toFixed(1)} ms`);
  t = performance.now();
  await (await fetch(`${sim.url}${API}/orders.json?status=any&limit=250&since_id=${shop.idOf('orders', 999_000)}`, { headers })).text();
  console.log(`  page of 250 near the end: ${(performance.now() - t).toFixed(0)} ms`);

  for (const walkers of [1, 4]) {
    const cpu0 = process.cpuUsage();
    const deadline = performance.now() + 5000;
    let pages = 0;
    let bytes = 0;
    const started = performance.now();
    await Promise.all(Array.from({ length: walkers }, async (_, w) => {
      let url: string | undefined = `${sim.url}${API}/orders.json?status=any&limit=250&since_id=${shop.idOf('orders', w * 200_000)}`;
      while (url && performance.now() < deadline) {
        const res: Response = await fetch(url, { headers });
        bytes += (await res.text()).length;
        pages++;
        url = /<([^>]+)>; rel="next"/.exec(res.headers.get('link') ?? '')?.[1];
      }
    }));
    const s = (performance.now() - started) / 1000;
    const cpu = process.cpuUsage(cpu0);
    console.log(`REST, ${walkers} walker(s): ${(pages / s).toFixed(1)} pages/s = ${((pages * 250) / s).toFixed(0)} orders/s, ${(bytes / s / 1e6).toFixed(1)} MB/s; ${((cpu.user + cpu.system) / 1000 / pages).toFixed(0)} ms CPU per page (server + client in one process)`);
  }

  {
    // 2 + 100 x (1 + lineItems 2 + 5) = 802 points: under the 1000-point single-query cap, as Shopify requires.
    const query = 'query($after: String) { orders(first: 100, after: $after) { nodes { id name updatedAt lineItems(first: 5) { nodes { id quantity sku } } } pageInfo { hasNextPage endCursor } } }';
    const deadline = performance.now() + 3000;
    let pages = 0;
    let after: string | null = null;
    const started = performance.now();
    while (performance.now() < deadline) {
      const res = await fetch(`${sim.url}${API}/graphql.json`, { method: 'POST', headers: { ...headers, 'Content-Type': 'application/json' }, body: JSON.stringify({ query, variables: { after } }) });
      const body = (await res.json()) as { data: { orders: { pageInfo: { endCursor: string } } } };
      after = body.data.orders.pageInfo.endCursor;
      pages++;
    }
    const s = (performance.now() - started) / 1000;
    console.log(`GraphQL: ${(pages / s).toFixed(1)} pages/s = ${((pages * 100) / s).toFixed(0)} order nodes/s (first: 100)`);
  }
  console.log(`memory after serving: rss +${mb(process.memoryUsage().rss - rss0)}, heap ${mb(process.memoryUsage().heapUsed)}`);

  {
    let received = 0;
    const receiver = http.createServer((req, res) => { req.resume(); req.on('end', () => { received++; res.end(); }); });
    await new Promise<void>((r) => receiver.listen(0, '127.0.0.1', () => r()));
    shop.subscribe('customers/update', `http://127.0.0.1:${(receiver.address() as AddressInfo).port}/`);
    const n = 2000;
    const started = performance.now();
    for (let i = 0; i < n; i++) shop.update('customers', shop.idOf('customers', i), { note: `bench ${i}` });
    await sim.webhooks.waitForDeliveries(60_000);
    const s = (performance.now() - started) / 1000;
    console.log(`webhooks: ${n} deliveries (signed, customers/update) in ${s.toFixed(2)} s = ${(received / s).toFixed(0)}/s`);
    receiver.closeAllConnections();
    receiver.close();
  }
  await sim.stop();
}

main().catch((error) => {
  console.error(error);
  process.exit(1);
});
