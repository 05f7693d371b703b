/**
 * Webhook acknowledgements as metrics: the endpoint's answer says what happened (see the status
 * table of `createWebhookHandler`), so the core is wrapped once instead of instrumenting each return.
 * Accepted deliveries are counted where they are stored (they carry tenant and topic there).
 */
import type { WebhookCore, WebhookResult } from '../webhooks/handler.js';
import { ATTR } from './instruments.js';
import type { Telemetry } from './telemetry.js';

/** Why a delivery was refused, from the handler's answer. */
export function rejectionReason(result: WebhookResult): string | null {
  const { status, body } = result;
  if (status >= 200 && status < 300) return null;
  if (status === 400) {
    if (body.startsWith('Missing header')) return 'missing_headers';
    if (body.includes('not JSON')) return 'not_json';
    if (body.includes('nested deeper')) return 'too_deep';
    if (body.includes('another shop')) return 'shop_mismatch';
    return 'bad_request';
  }
  const reasons: Record<number, string> = { 401: 'invalid_hmac', 404: 'unknown_shop', 405: 'method_not_allowed', 413: 'too_large', 500: 'error', 503: 'unavailable' };
  return reasons[status] ?? `http_${status}`;
}

/** How a delivery answered 2xx was taken: the same outcomes the webhook service counts (`dropped`: a resource the tenant does not sync). */
function acceptedOutcome(body: string): 'accepted' | 'duplicate' | 'dropped' {
  if (body.includes('"dropped":true')) return 'dropped';
  return body.includes('"duplicate":true') ? 'duplicate' : 'accepted';
}

/** The core, counting refusals by reason and timing every answer. */
export function instrumentWebhookCore(core: WebhookCore, telemetry: Telemetry): WebhookCore {
  if (!telemetry.enabled) return core;
  return async (input) => {
    const started = performance.now();
    let result: WebhookResult;
    try {
      result = await core(input);
    } catch (error) {
      // The transport answers 500 (the `error` reason): counted and timed like any refusal.
      telemetry.add('webhookDeliveries', 1, { [ATTR.outcome]: 'rejected', [ATTR.reason]: 'error' });
      telemetry.record('webhookAck', (performance.now() - started) / 1000, { [ATTR.outcome]: 'rejected' });
      throw error;
    }
    const reason = rejectionReason(result);
    const outcome = reason === null ? acceptedOutcome(result.body) : 'rejected';
    // No tenant or topic on refusals: before verification they are whatever the sender wrote.
    if (reason !== null) telemetry.add('webhookDeliveries', 1, { [ATTR.outcome]: outcome, [ATTR.reason]: reason });
    telemetry.record('webhookAck', (performance.now() - started) / 1000, { [ATTR.outcome]: outcome });
    return result;
  };
}
