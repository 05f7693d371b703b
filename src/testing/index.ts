/**
 * `shopify-ingest/testing`: a local Shopify to test against. See docs/testing-with-the-simulator.md.
 */
export { createShopifySimulator, type ShopifySimulator, type ShopifySimulatorOptions } from './simulator.js';
export type { ShopConfig, SimulatedShop, ShopStats, ShopChange, ShopEvent, WebhookSubscription, WebhookTopic } from './shop.js';
export { SimulatorError } from './shop.js';
export { signWebhookBody, type WebhookDeliveryOptions, type WebhookDeliveryRecord, type WebhookDispatcher } from './webhooks.js';
export type { FaultKind, FaultOptions, FaultInjector } from './faults.js';
export { createSimulatorAgent } from './https.js';
export type { ResourceName, JsonObject } from './generator.js';
