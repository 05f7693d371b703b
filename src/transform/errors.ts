import { ShopifyIngestError } from '../errors.js';

/**
 * A Shopify record that cannot be turned into rows (no usable id, no `updated_at`, a malformed
 * money amount or time). Carries the record's id when it could be read, so a sync can record
 * exactly which record failed and why, and go on.
 *
 * @example
 * ```ts
 * try { transformer.transformOrder(order, tenantId) }
 * catch (e) { if (e instanceof TransformError) failures.push({ shopifyId: e.shopifyId, reason: e.reason }) }
 * ```
 */
export class TransformError extends ShopifyIngestError {
  /** Exact Shopify id of the record, or null when the record has none. */
  readonly shopifyId: bigint | null;
  /** What was wrong, e.g. `updated_at is missing`. Never contains PII. */
  readonly reason: string;
  /** `customers`, `products` or `orders`. */
  readonly resource: string;

  /**
   * Raised by the SDK; applications catch it.
   * @internal
   */
  constructor(resource: string, shopifyId: bigint | null, reason: string, options: { cause?: unknown } = {}) {
    super('TRANSFORM_FAILED', `cannot transform ${resource.replace(/s$/, '')} ${shopifyId ?? '(no id)'}: ${reason}`, {
      cause: options.cause,
      details: { resource, shopifyId: shopifyId === null ? null : shopifyId.toString(), reason },
    });
    this.shopifyId = shopifyId;
    this.reason = reason;
    this.resource = resource;
  }
}

/** A record a batch could not transform: reported beside the rows of the others. */
export interface TransformFailure {
  /** Id of the record, when it could be read. */
  shopifyId: bigint | null;
  /** Why it could not be transformed. */
  reason: string;
  /** The error. */
  error: TransformError;
}

/** Internal: a bad field value; the record transformer rethrows it as a {@link TransformError} with the record id. */
export class FieldError extends Error {}
