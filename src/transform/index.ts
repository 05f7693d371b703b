/**
 * Shopify JSON -> rows: pure functions, no I/O. REST/webhook bodies and GraphQL nodes give the same rows.
 */
export { ShopifyTransformer, resolveShopifyId } from './transformer.js';
export type { ShopifyTransformerOptions, TransformBatchOptions, CustomersBatchResult, ProductsBatchResult, OrdersBatchResult } from './transformer.js';
export { TransformError } from './errors.js';
export type { TransformFailure } from './errors.js';
export { revealPayload, rotatePayload, DEFAULT_PII_KEYS, SEALED_KEY } from './pii.js';
export { parseGid, money as toMoney, addMoney } from './values.js';
