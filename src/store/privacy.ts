import { assertTenantId } from '../errors.js';
import type { PrismaLike } from './prisma-like.js';
import { storeFailure } from './store-errors.js';
import { RESOURCES } from '../resources/registry.js';
import type { ResourceDefinition } from '../resources/definition.js';

/**
 * Order payload keys that carry the buyer's personal data
 * (https://shopify.dev/docs/api/admin-rest/latest/resources/order: email, phone, customer, addresses,
 * client_details with browser IP and user agent, note and note_attributes the buyer typed).
 */
export const ORDER_PII_KEYS = [
  'email', 'contact_email', 'phone', 'customer', 'billing_address', 'shipping_address', 'client_details',
  'browser_ip', 'note', 'note_attributes', 'customer_locale', 'landing_site', 'referring_site',
] as const;

/** Tables holding a tenant's rows: every resource's tables (children first, so foreign keys never block the purge), then the SDK's own. */
const TENANT_TABLES = [
  ...[...(RESOURCES as readonly ResourceDefinition[])].reverse().flatMap((r) => [...r.children].reverse().map((c) => c.table).concat(r.root.table)),
  'shopify_listed_ids',
  'shopify_sync_failures',
  'shopify_sync_runs',
  'shopify_sync_checkpoints',
  'shopify_webhook_inbox',
] as const;

/** GDPR webhooks: customers/redact and shop/redact (https://shopify.dev/docs/apps/build/compliance/privacy-law-compliance). */
export function createPrivacyStore(prisma: PrismaLike) {
  return {
    /**
     * Erases a customer's PII: the customer row keeps its id and timestamps, its PII columns become
     * NULL and its payload `{"id": ..., "redacted": true}`; their orders (by `customer_id`, plus
     * `orderIds` Shopify lists in the request) lose email/phone columns and the PII keys of their payload.
     */
    async redactCustomer(tenantId: string, customerId: bigint, orderIds: bigint[] = []): Promise<void> {
      assertTenantId(tenantId);
      const id = BigInt(customerId).toString();
      const orders = [...new Set(orderIds.map((o) => BigInt(o).toString()))];
      try {
        await prisma.$transaction(async (tx) => {
          await tx.$executeRawUnsafe(
            `UPDATE "shopify_customers" SET "email_enc" = NULL, "email_hash" = NULL, "first_name_enc" = NULL, "last_name_enc" = NULL,
               "phone_enc" = NULL, "addresses_enc" = NULL, "payload" = jsonb_build_object('id', "id", 'redacted', true), "synced_at" = now()
             WHERE "tenant_id" = $1 AND "id" = $2::bigint`,
            tenantId,
            id,
          );
          await tx.$executeRawUnsafe(
            `UPDATE "shopify_orders" SET "email_enc" = NULL, "email_hash" = NULL, "phone_enc" = NULL,
               "payload" = ("payload" - $4::text[]) || jsonb_build_object('redacted', true), "synced_at" = now()
             WHERE "tenant_id" = $1 AND ("customer_id" = $2::bigint OR "id" = ANY($3::bigint[]))`,
            tenantId,
            id,
            orders,
            [...ORDER_PII_KEYS],
          );
        });
      } catch (error) {
        throw storeFailure('redactCustomer', tenantId, error);
      }
    },

    /** Deletes every row of the tenant in one transaction; the tenant row too with `includeTenant`. */
    async purgeTenant(tenantId: string, options: { includeTenant?: boolean } = {}): Promise<void> {
      assertTenantId(tenantId);
      try {
        await prisma.$transaction(async (tx) => {
          for (const table of TENANT_TABLES) await tx.$executeRawUnsafe(`DELETE FROM "${table}" WHERE "tenant_id" = $1`, tenantId);
          if (options.includeTenant) await tx.$executeRawUnsafe(`DELETE FROM "shopify_tenants" WHERE "id" = $1`, tenantId);
        }, { timeout: 120_000, maxWait: 30_000 });
      } catch (error) {
        throw storeFailure('purgeTenant', tenantId, error);
      }
    },
  };
}
