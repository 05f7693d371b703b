import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createShopifySimulator, type ShopifySimulator } from '../../src/testing/index.js';
import { parseShopifyJson } from '../../src/json.js';
import { API, get, nextLink, previousLink } from './helpers.js';

describe('simulator REST API', () => {
  let sim: ShopifySimulator;
  beforeAll(async () => {
    sim = await createShopifySimulator({
      seed: 7,
      shops: [{ domain: 'alpha.myshopify.com', orders: 120, customers: 30, products: 12 }, { domain: 'beta.myshopify.com', orders: 5 }],
      unthrottled: true,
    });
  });
  afterAll(() => sim.stop());

  const alpha = () => sim.shops[0];
  const list = (path: string) => get(`${sim.url}${API}/${path}`, alpha().accessToken);

  it('rejects a wrong token with Shopify 401 body', async () => {
    const res = await get(`${sim.url}${API}/orders.json`, 'shpat_wrong');
    expect(res.status).toBe(401);
    expect(JSON.parse(res.text)).toEqual({ errors: '[API] Invalid API key or access token (unrecognized login or wrong password)' });
    const other = await get(`${sim.url}/shops/alpha.myshopify.com${API}/orders.json`, sim.shops[1].accessToken);
    expect(other.status).toBe(401);
  });

  it('routes by token, by path prefix and by Host header', async () => {
    const byToken = await get(`${sim.url}${API}/shop.json`, sim.shops[1].accessToken);
    expect(JSON.parse(byToken.text).shop.myshopify_domain).toBe('beta.myshopify.com');
    const byPrefix = await get(`${alpha().baseUrl}${API}/shop.json`, alpha().accessToken);
    expect(JSON.parse(byPrefix.text).shop.myshopify_domain).toBe('alpha.myshopify.com');
    const byHost = await new Promise<string>((resolve, reject) => {
      void import('node:http').then(({ default: http }) => {
        const req = http.get(`${sim.url}${API}/shop.json`, { headers: { Host: 'alpha.myshopify.com', 'X-Shopify-Access-Token': alpha().accessToken } }, (res) => {
          let body = '';
          res.on('data', (c) => (body += c));
          res.on('end', () => resolve(body));
        });
        req.on('error', reject);
      });
    });
    expect(JSON.parse(byHost).shop.myshopify_domain).toBe('alpha.myshopify.com');
  });

  it('lists with default limit 50, open orders by default, and counts agree', async () => {
    const open = await list('orders.json');
    const orders = JSON.parse(open.text).orders as Array<{ closed_at: unknown; cancelled_at: unknown }>;
    expect(orders.length).toBe(50);
    expect(orders.every((o) => o.closed_at === null && o.cancelled_at === null)).toBe(true);
    const counts = await Promise.all(['any', 'open', 'closed', 'cancelled'].map(async (s) => JSON.parse((await list(`orders/count.json?status=${s}`)).text).count as number));
    expect(counts[0]).toBe(120);
    expect(counts[1] + counts[2]).toBe(120);
    expect(counts[3]).toBeGreaterThan(0);
    expect(counts[3]).toBeLessThanOrEqual(counts[2]);
    let walked = 0;
    let url: string | undefined = `${sim.url}${API}/orders.json?status=cancelled&limit=3`;
    while (url) {
      const page = await get(url, alpha().accessToken);
      walked += JSON.parse(page.text).orders.length;
      url = nextLink(page.headers.get('link'));
    }
    expect(walked).toBe(counts[3]);
  });

  it('walks every record exactly once while records change, via Link rel="next"', async () => {
    const all = JSON.parse((await list('orders.json?status=any&limit=250&fields=id')).text).orders.map((o: { id: number }) => o.id) as number[];
    expect(all.length).toBe(120);
    expect([...all].sort((a, b) => a - b)).toEqual(all);
    const seen: number[] = [];
    let url: string | undefined = `${sim.url}${API}/orders.json?status=any&limit=7&fields=id,updated_at`;
    let step = 0;
    while (url) {
      const page = await get(url, alpha().accessToken);
      expect(page.status).toBe(200);
      seen.push(...JSON.parse(page.text).orders.map((o: { id: number }) => o.id));
      // Concurrent changes: update records behind and ahead of the cursor, and create new ones.
      alpha().update('orders', all[(step * 13) % all.length], { note: `changed ${step}` });
      alpha().update('orders', all[all.length - 1 - step], { tags: 'moved' });
      if (step % 4 === 0) alpha().create('orders', { note: 'new during walk' });
      step++;
      url = nextLink(page.headers.get('link'));
    }
    expect(new Set(seen).size).toBe(seen.length);
    for (const id of all) expect(seen).toContain(id);
  });

  it('keeps updated_at filters in page_info and finds updated records', async () => {
    const before = JSON.parse((await list('orders/count.json?status=any&updated_at_min=2030-01-01T00:00:00Z')).text).count;
    expect(before).toBe(0);
    const since = new Date(Date.now() - 5_000).toISOString();
    const total = JSON.parse((await list(`orders/count.json?status=any&updated_at_min=${encodeURIComponent(since)}`)).text).count as number;
    expect(total).toBeGreaterThan(0);
    const ids: number[] = [];
    let url: string | undefined = `${sim.url}${API}/orders.json?status=any&limit=2&updated_at_min=${encodeURIComponent(since)}`;
    while (url) {
      const page = await get(url, alpha().accessToken);
      const body = JSON.parse(page.text);
      for (const o of body.orders) expect(Date.parse(o.updated_at)).toBeGreaterThanOrEqual(Date.parse(since) - 1000);
      ids.push(...body.orders.map((o: { id: number }) => o.id));
      url = nextLink(page.headers.get('link'));
    }
    expect(ids.length).toBe(total);
  });

  it('applies Shopify page_info rules', async () => {
    const first = await list('customers.json?limit=10');
    const next = nextLink(first.headers.get('link'))!;
    expect(next).toContain('page_info=');
    expect(first.headers.get('link')).not.toContain('rel="previous"');
    const withFilter = await get(`${next}&updated_at_min=2024-01-01`, alpha().accessToken);
    expect(withFilter.status).toBe(400);
    expect(JSON.parse(withFilter.text).errors.updated_at_min).toBe('updated_at_min cannot be passed when page_info is present. See https://shopify.dev/api/usage/pagination-rest for more information.');
    const withFields = await get(`${next}&fields=id`, alpha().accessToken);
    expect(withFields.status).toBe(200);
    expect(Object.keys(JSON.parse(withFields.text).customers[0])).toEqual(['id']);
    expect((await list('customers.json?page=2')).status).toBe(400);
    expect((await list('customers.json?page_info=garbage')).status).toBe(400);
    const second = await get(next, alpha().accessToken);
    const prev = previousLink(second.headers.get('link'))!;
    expect(prev).toBeDefined();
    const back = await get(prev, alpha().accessToken);
    expect(JSON.parse(back.text).customers.map((c: { id: number }) => c.id)).toEqual(JSON.parse(first.text).customers.map((c: { id: number }) => c.id));
    const onePage = await list('products.json?limit=250');
    expect(onePage.headers.get('link')).toBeNull();
    expect(JSON.parse(onePage.text).products.length).toBe(12);
    expect(JSON.parse((await list('products.json?limit=1000')).text).products.length).toBe(12);
  });

  it('supports since_id, ids, show and 404', async () => {
    const all = JSON.parse((await list('customers.json?limit=250')).text).customers as Array<{ id: number }>;
    const after = JSON.parse((await list(`customers.json?since_id=${all[9].id}&limit=250`)).text).customers as Array<{ id: number }>;
    expect(after[0].id).toBe(all[10].id);
    const some = JSON.parse((await list(`customers.json?ids=${all[3].id},${all[1].id}`)).text).customers as Array<{ id: number }>;
    expect(some.map((c) => c.id)).toEqual([all[1].id, all[3].id]);
    const one = await list(`customers/${all[2].id}.json`);
    expect(JSON.parse(one.text).customer.id).toBe(all[2].id);
    expect((await list('customers/1.json')).status).toBe(404);
  });

  it('records deletions in events.json and hides deleted records', async () => {
    const start = new Date(Date.now() - 2000).toISOString();
    const victim = JSON.parse((await list('products.json?limit=1')).text).products[0];
    alpha().delete('products', victim.id);
    expect((await list(`products/${victim.id}.json`)).status).toBe(404);
    expect(JSON.parse((await list('products/count.json')).text).count).toBe(11);
    const events = JSON.parse((await list(`events.json?verb=destroy&filter=Order,Product&created_at_min=${encodeURIComponent(start)}`)).text).events;
    expect(events).toHaveLength(1);
    expect(events[0]).toMatchObject({ subject_id: victim.id, subject_type: 'Product', verb: 'destroy' });
  });

  it('writes through REST with the same effects as the mutation API', async () => {
    const h = { 'X-Shopify-Access-Token': alpha().accessToken, 'Content-Type': 'application/json' };
    const created = await fetch(`${sim.url}${API}/customers.json`, { method: 'POST', headers: h, body: JSON.stringify({ customer: { email: 'rest@example.com', first_name: 'Rest' } }) });
    expect(created.status).toBe(201);
    const customer = (await created.json() as { customer: { id: number; email: string } }).customer;
    expect(customer.email).toBe('rest@example.com');
    const put = await fetch(`${sim.url}${API}/customers/${customer.id}.json`, { method: 'PUT', headers: h, body: JSON.stringify({ customer: { id: customer.id, tags: 'vip' } }) });
    expect((await put.json() as { customer: { tags: string } }).customer.tags).toBe('vip');
    const orderId = alpha().idOf('orders', 1);
    const cancel = await fetch(`${sim.url}${API}/orders/${orderId}/cancel.json`, { method: 'POST', headers: h, body: '{}' });
    expect((await cancel.json() as { order: { cancelled_at: string | null } }).order.cancelled_at).not.toBeNull();
    const del = await fetch(`${sim.url}${API}/customers/${customer.id}.json`, { method: 'DELETE', headers: h });
    expect(del.status).toBe(200);
    expect((await list(`customers/${customer.id}.json`)).status).toBe(404);
    expect((await fetch(`${sim.url}${API}/customers/${customer.id}.json`, { method: 'DELETE', headers: h })).status).toBe(404);
  });

  it('paginates events.json with Link headers', async () => {
    const start = new Date(Date.now() - 2000).toISOString();
    for (let i = 0; i < 5; i++) alpha().delete('orders', alpha().idOf('orders', 100 + i));
    const ids: number[] = [];
    let url: string | undefined = `${sim.url}${API}/events.json?verb=destroy&filter=Order&limit=2&created_at_min=${encodeURIComponent(start)}`;
    while (url) {
      const page = await get(url, alpha().accessToken);
      ids.push(...JSON.parse(page.text).events.map((e: { subject_id: number }) => e.subject_id));
      url = nextLink(page.headers.get('link'));
    }
    expect(ids).toEqual([100, 101, 102, 103, 104].map((i) => alpha().idOf('orders', i)));
  });

  it('generates Shopify-shaped orders with money strings, offsets and gids', async () => {
    const order = JSON.parse((await list('orders.json?status=any&limit=1')).text).orders[0];
    expect(order.admin_graphql_api_id).toBe(`gid://shopify/Order/${order.id}`);
    expect(order.total_price).toMatch(/^\d+\.\d{2}$/);
    expect(order.created_at).toMatch(/^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}-05:00$/);
    expect(order.line_items.length).toBeGreaterThan(0);
    const li = order.line_items[0];
    const product = JSON.parse((await list(`products/${li.product_id}.json`)).text).product;
    expect(product.variants.map((v: { id: number }) => v.id)).toContain(li.variant_id);
  });
});

describe('simulator determinism and big ids', () => {
  it('same seed gives the same store, another seed another', async () => {
    const texts: string[] = [];
    for (const seed of [3, 3, 4]) {
      const sim = await createShopifySimulator({ seed, shops: [{ orders: 30, customers: 10, products: 5 }] });
      texts.push((await get(`${sim.url}${API}/orders.json?status=any&limit=30`, sim.shops[0].accessToken)).text);
      await sim.stop();
    }
    expect(texts[0]).toBe(texts[1]);
    expect(texts[0]).not.toBe(texts[2]);
  });

  it('serves ids above 2^53 exactly in the JSON text', async () => {
    const sim = await createShopifySimulator({ shops: [{ bigIds: true, orders: 3, customers: 2, products: 2 }] });
    const shop = sim.shops[0];
    const text = (await get(`${sim.url}${API}/orders.json?status=any`, shop.accessToken)).text;
    expect(text).toContain('"id":820982911946154508,');
    expect(text).toContain('"id":820982911946155508,');
    const parsed = parseShopifyJson<{ orders: Array<{ id: bigint; admin_graphql_api_id: string }> }>(text);
    expect(parsed.orders[1].id).toBe(820982911946155508n);
    expect(parsed.orders[1].admin_graphql_api_id).toBe('gid://shopify/Order/820982911946155508');
    const show = (await get(`${sim.url}${API}/orders/820982911946155508.json`, shop.accessToken)).text;
    expect(show).toContain('"id":820982911946155508,');
    await sim.stop();
  });

  it('keeps changed records as small patches', async () => {
    const sim = await createShopifySimulator({ shops: [{ orders: 20_000, customers: 100, products: 20 }] });
    const shop = sim.shops[0];
    const before = shop.find('orders', shop.idOf('orders', 7))!;
    const heap = process.memoryUsage().heapUsed;
    for (let i = 0; i < 4000; i++) shop.update('orders', shop.idOf('orders', i), { note: `n${i}` });
    const grown = process.memoryUsage().heapUsed - heap;
    // Whole orders would hold about 4000 x 10 KB of JSON as objects (well over 60 MB).
    expect(grown).toBeLessThan(30 * 1024 * 1024);
    const after = shop.find('orders', shop.idOf('orders', 7))!;
    expect(after.note).toBe('n7');
    expect(after.line_items).toEqual(before.line_items);
    expect(after.updated_at).not.toBe(before.updated_at);
    expect(shop.tables.orders.overlaySize).toBe(4000);
    await sim.stop();
  });

  it('keeps memory flat at 1,000,000 orders: count and a page near the end are quick', async () => {
    const rss = process.memoryUsage().rss;
    const sim = await createShopifySimulator({ shops: [{ orders: 1_000_000, customers: 50_000, products: 500 }], unthrottled: true });
    const shop = sim.shops[0];
    const t0 = performance.now();
    const count = JSON.parse((await get(`${sim.url}${API}/orders/count.json?status=any`, shop.accessToken)).text).count;
    expect(count).toBe(1_000_000);
    const open = JSON.parse((await get(`${sim.url}${API}/orders/count.json`, shop.accessToken)).text).count;
    expect(open).toBeGreaterThan(500_000);
    expect(open).toBeLessThan(750_000);
    const since = shop.idOf('orders', 999_990);
    const page = await get(`${sim.url}${API}/orders.json?status=any&limit=250&since_id=${since}`, shop.accessToken);
    const ids = JSON.parse(page.text).orders.map((o: { id: number }) => o.id);
    expect(ids).toHaveLength(9);
    expect(page.headers.get('link')).toBeNull();
    expect(performance.now() - t0).toBeLessThan(3000);
    expect(process.memoryUsage().rss - rss).toBeLessThan(100 * 1024 * 1024);
    await sim.stop();
  });
});
