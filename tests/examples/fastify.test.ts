/**
 * examples/fastify, booted on port 0 against a fresh PostgreSQL database, fed by the simulator's
 * signed webhooks over real HTTP (the scenario is in harness.ts).
 */
import { silentLogger } from 'shopify-ingest';
import { createApp, WEBHOOK_PATH } from '../../examples/fastify/src/app.js';
import { describeNodeExample } from './harness.js';

describeNodeExample('fastify', async (env) => {
  // The app opens its own database from DATABASE_URL, as it does when run standalone.
  const example = await createApp({ env: env.env, service: { logger: silentLogger, scheduler: { enabled: false } } }); // the test drives every sync: a scheduled run would hold a lock the route's sync needs (409)
  return {
    baseUrl: await example.app.listen({ port: 0, host: '127.0.0.1' }),
    webhookPath: WEBHOOK_PATH,
    service: example.service,
    close: () => example.close(), // app.close(): its onClose hook shuts the service down
  };
});
