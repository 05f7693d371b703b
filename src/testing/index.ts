/**
 * `shopify-ingest/testing`: a local Shopify to test against — REST and GraphQL Admin APIs, rate
 * limits, faults, webhooks, bulk operations, deterministic data up to millions of orders.
 * Guide: docs/testing-with-the-simulator.md.
 *
 * @example
 * ```ts
 * import { createShopifySimulator } from 'shopify-ingest/testing';
 * const sim = await createShopifySimulator({ seed: 1, shops: [{ orders: 10_000 }] });
 * // createShopifyClient({ shopDomain: sim.shops[0].domain, accessToken: sim.shops[0].accessToken, baseUrl: sim.url })
 * await sim.stop();
 * ```
 * @packageDocumentation
 */
export { createShopifySimulator, type ShopifySimulator, type ShopifySimulatorOptions } from './simulator.js';
export type { ShopConfig, SimulatedShop, ShopStats, ShopChange, ShopEvent, WebhookSubscription, WebhookTopic } from './shop.js';
export { SimulatorError } from './shop.js';
export { signWebhookBody, type WebhookDeliveryOptions, type WebhookDeliveryRecord, type WebhookDispatcher } from './webhooks.js';
export { FAULT_KINDS, type FaultKind, type FaultOptions, type FaultInjector } from './faults.js';
export { createSimulatorAgent } from './https.js';
export type { BulkOptions, GraphqlApi, ResultFileStats } from './graphql.js';
export type { OAuthOptions, OAuthFault, OAuthAuthority, OAuthStats } from './oauth.js';
export type { ResourceName, JsonObject } from './generator.js';
export { runSimulatorCli, parseSimulatorArgs, SIMULATOR_USAGE } from './cli.js';
