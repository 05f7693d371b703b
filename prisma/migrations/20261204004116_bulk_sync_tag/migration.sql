-- AlterTable
ALTER TABLE "shopify_order_line_items" ADD COLUMN     "sync_tag" TEXT;

-- AlterTable
ALTER TABLE "shopify_orders" ADD COLUMN     "sync_tag" TEXT;

-- AlterTable
ALTER TABLE "shopify_product_variants" ADD COLUMN     "sync_tag" TEXT;

-- AlterTable
ALTER TABLE "shopify_products" ADD COLUMN     "sync_tag" TEXT;
