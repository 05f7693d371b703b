-- AlterTable
ALTER TABLE "shopify_abandoned_checkouts" ADD COLUMN     "observed_at" TIMESTAMPTZ(6);

-- AlterTable
ALTER TABLE "shopify_collections" ADD COLUMN     "observed_at" TIMESTAMPTZ(6);

-- AlterTable
ALTER TABLE "shopify_customers" ADD COLUMN     "observed_at" TIMESTAMPTZ(6);

-- AlterTable
ALTER TABLE "shopify_discounts" ADD COLUMN     "observed_at" TIMESTAMPTZ(6);

-- AlterTable
ALTER TABLE "shopify_draft_orders" ADD COLUMN     "observed_at" TIMESTAMPTZ(6);

-- AlterTable
ALTER TABLE "shopify_fulfillments" ADD COLUMN     "observed_at" TIMESTAMPTZ(6);

-- AlterTable
ALTER TABLE "shopify_inventory_items" ADD COLUMN     "observed_at" TIMESTAMPTZ(6);

-- AlterTable
ALTER TABLE "shopify_locations" ADD COLUMN     "observed_at" TIMESTAMPTZ(6);

-- AlterTable
ALTER TABLE "shopify_metafield_owners" ADD COLUMN     "observed_at" TIMESTAMPTZ(6);

-- AlterTable
ALTER TABLE "shopify_metafields" ADD COLUMN     "observed_at" TIMESTAMPTZ(6);

-- AlterTable
ALTER TABLE "shopify_order_transactions" ADD COLUMN     "observed_at" TIMESTAMPTZ(6);

-- AlterTable
ALTER TABLE "shopify_orders" ADD COLUMN     "observed_at" TIMESTAMPTZ(6);

-- AlterTable
ALTER TABLE "shopify_product_variants" ADD COLUMN     "observed_at" TIMESTAMPTZ(6);

-- AlterTable
ALTER TABLE "shopify_products" ADD COLUMN     "observed_at" TIMESTAMPTZ(6);

-- AlterTable
ALTER TABLE "shopify_refunds" ADD COLUMN     "observed_at" TIMESTAMPTZ(6);

-- AlterTable
ALTER TABLE "shopify_shop" ADD COLUMN     "observed_at" TIMESTAMPTZ(6);
