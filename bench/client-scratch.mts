import { createShopifySimulator } from '../src/testing/index.js';
import { ClientManager } from '../src/client/index.js';
const SHOPS = Number(process.env.S ?? 3);
const sim = await createShopifySimulator({ seed: 9, shops: SHOPS, shopDefaults: { orders: 10, customers: 10, products: 10 }, timeScale: 5, bucket: { size: 40, leakPerSecond: 2 } });
const lines: string[] = [];
const logger = { debug() {}, info() {}, error() {}, warn(m: string, meta?: any) { lines.push(`${Date.now() % 100000} ${m} ${JSON.stringify(meta)}`); } };
const manager = new ClientManager({ leakRate: 10, apiVersion: '2026-10', logger });
sim.shops.forEach((s, i) => manager.addClient(`t${i}`, { shopDomain: s.domain, accessToken: s.accessToken }, { baseUrl: sim.url }));
sim.resetStats();
const log: string[] = [];
await Promise.all(manager.clients().map(async ([id, client]) => {
  let next = 0;
  await Promise.all(Array.from({ length: 8 }, async () => {
    while (next++ < 120) {
      const t0 = Date.now();
      const st = client.getRateLimitStatus();
      const r = await client.request('GET', '/shop.json');
      if (id === 't0') log.push(`${t0 % 100000} sent(level ${st.callsMade} inflight ${st.inFlight}) -> ${Date.now() % 100000} ${r.callLimit?.used}`);
    }
  }));
}));
console.log(JSON.stringify(sim.stats()));
console.log(lines.slice(0, 10).join('\n'));
console.log(log.slice(30, 60).join('\n'));
await manager.close(); await sim.stop();
