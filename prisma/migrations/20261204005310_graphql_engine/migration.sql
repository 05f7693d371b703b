-- AlterTable
ALTER TABLE "shopify_customers" ADD COLUMN     "deletion_inferred" BOOLEAN NOT NULL DEFAULT false;

-- AlterTable
ALTER TABLE "shopify_order_line_items" ADD COLUMN     "sync_tag" TEXT;

-- AlterTable
ALTER TABLE "shopify_orders" ADD COLUMN     "deletion_inferred" BOOLEAN NOT NULL DEFAULT false,
ADD COLUMN     "sync_tag" TEXT;

-- AlterTable
ALTER TABLE "shopify_product_variants" ADD COLUMN     "deletion_inferred" BOOLEAN NOT NULL DEFAULT false,
ADD COLUMN     "sync_tag" TEXT;

-- AlterTable
ALTER TABLE "shopify_products" ADD COLUMN     "deletion_inferred" BOOLEAN NOT NULL DEFAULT false,
ADD COLUMN     "sync_tag" TEXT;

-- AlterTable
ALTER TABLE "shopify_sync_checkpoints" ADD COLUMN     "deletion_error" TEXT,
ADD COLUMN     "deletions_checked_at" TIMESTAMPTZ(6);

-- AlterTable
ALTER TABLE "shopify_sync_runs" ADD COLUMN     "warnings" JSONB NOT NULL DEFAULT '[]';

-- CreateTable
CREATE TABLE "shopify_listed_ids" (
    "tenant_id" TEXT NOT NULL,
    "resource" TEXT NOT NULL,
    "listing_id" TEXT NOT NULL,
    "id" BIGINT NOT NULL,

    CONSTRAINT "shopify_listed_ids_pkey" PRIMARY KEY ("tenant_id","resource","listing_id","id")
);

-- AddForeignKey
ALTER TABLE "shopify_listed_ids" ADD CONSTRAINT "shopify_listed_ids_tenant_id_fkey" FOREIGN KEY ("tenant_id") REFERENCES "shopify_tenants"("id") ON DELETE CASCADE ON UPDATE CASCADE;
