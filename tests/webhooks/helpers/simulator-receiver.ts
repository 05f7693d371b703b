/**
 * A webhook service behind a real Express server, subscribed to the simulator's deliveries, that
 * refetches records from the simulator over GraphQL as the facade wires it: the setup of the topic
 * tests (stock-topics, drafts-topics).
 */
import type { AddressInfo } from 'node:net';
import type { Server } from 'node:http';
import express from 'express';
import { expect } from 'vitest';
import { shopifyWebhooks } from 'shopify-ingest/express';
import type { createShopifyClient } from '../../../src/client/index.js';
import type { KeyRing } from '../../../src/crypto/index.js';
import { fetchRecord } from '../../../src/importer/pages-listing.js';
import { silentLogger } from '../../../src/logger.js';
import { getResource } from '../../../src/resources/index.js';
import type { ShopifySimulator } from '../../../src/testing/index.js';
import { createWebhookService, type WebhookService } from '../../../src/webhooks/index.js';
import type { TestDatabase } from '../../helpers/db.js';
import { SECRET } from './deliveries.js';

export interface SimulatorReceiver {
  service: WebhookService;
  /** Waits until every delivery is acknowledged and the tenant's inbox has nothing left to apply; fails on any delivery not processed. */
  settle(): Promise<void>;
  close(): Promise<void>;
}

export async function startSimulatorReceiver(init: {
  db: TestDatabase; sim: ShopifySimulator; tenantId: string; keyRing: KeyRing; client: ReturnType<typeof createShopifyClient>; topics: readonly string[];
}): Promise<SimulatorReceiver> {
  const { db, sim, tenantId, client } = init;
  const service = createWebhookService(db.database, {
    secrets: SECRET, keyRing: init.keyRing, logger: silentLogger, worker: { pollIntervalMs: 100, batchSize: 50 },
    fetchRecord: (_tenant, resource, id) => fetchRecord(client, getResource(resource), id),
  });
  const app = express();
  app.post('/webhooks/shopify', shopifyWebhooks(service));
  const server: Server = await new Promise((resolve) => { const s = app.listen(0, '127.0.0.1', () => resolve(s)); });
  const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/webhooks/shopify`;
  for (const topic of init.topics) sim.shops[0]!.subscribe(topic, url);
  const pending = async () => (await db.query<{ n: number }>(`SELECT count(*)::int AS n FROM shopify_webhook_inbox WHERE tenant_id = $1 AND status NOT IN ('processed', 'failed')`, [tenantId]))[0].n;
  return {
    service,
    async settle() {
      await sim.webhooks.waitForDeliveries(20_000);
      for (let i = 0; i < 200 && (await pending()) > 0; i++) await new Promise((r) => setTimeout(r, 50));
      expect(await db.query(`SELECT topic, last_error FROM shopify_webhook_inbox WHERE tenant_id = $1 AND status <> 'processed'`, [tenantId])).toEqual([]);
    },
    async close() {
      await service.stop();
      await new Promise<void>((r) => server.close(() => r()));
    },
  };
}
