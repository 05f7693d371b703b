import { ShopifyIngestError } from '../errors.js';

/** A webhook could not be accepted, stored or processed. `code` says which step failed. */
export class WebhookError extends ShopifyIngestError {
  /** Topic of the delivery, when known. */
  readonly topic: string | undefined;
  /**
   * Raised by the SDK; applications catch it.
   * @internal
   */
  constructor(
    code: 'WEBHOOK_RAW_BODY_UNAVAILABLE' | 'WEBHOOK_PROCESSING_FAILED' | 'WEBHOOK_BUSY' | 'WEBHOOK_NOT_FOUND' | 'WEBHOOK_BODY_NOT_RETAINED' | 'WEBHOOK_CONFIG',
    message: string,
    options: { cause?: unknown; details?: Record<string, unknown>; topic?: string } = {},
  ) {
    super(code, message, options);
    this.topic = options.topic;
  }
}

/**
 * The raw request bytes are gone (a JSON body parser consumed them before the webhook route), so the
 * HMAC cannot be checked. Raised instead of a misleading 401; the message says how to mount the route.
 */
export class RawBodyUnavailableError extends WebhookError {
  constructor(hint: string) {
    super(
      'WEBHOOK_RAW_BODY_UNAVAILABLE',
      `the raw request body is not available: a JSON body parser consumed it before the Shopify webhook route, so its HMAC cannot be verified. ${hint}`,
    );
  }
}
