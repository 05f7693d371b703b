/**
 * examples/express, booted on port 0 against a fresh PostgreSQL database, fed by the simulator's
 * signed webhooks over real HTTP (the scenario is in harness.ts).
 */
import type { AddressInfo } from 'node:net';
import { silentLogger } from 'shopify-ingest';
import { createApp, WEBHOOK_PATH } from '../../examples/express/src/app.js';
import { describeNodeExample } from './harness.js';

describeNodeExample('express', async (env) => {
  // The app opens its own database from DATABASE_URL, as it does when run standalone.
  const example = await createApp({ env: env.env, service: { logger: silentLogger, scheduler: { enabled: false } } }); // the test drives every sync: a scheduled run would hold a lock the route's sync needs (409)
  const server = example.app.listen(0, '127.0.0.1');
  await new Promise<void>((resolve) => server.once('listening', () => resolve()));
  return {
    baseUrl: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
    webhookPath: WEBHOOK_PATH,
    service: example.service,
    async close() {
      await new Promise((resolve) => server.close(resolve));
      await example.close();
    },
  };
});
