-- CreateTable
CREATE TABLE "shopify_metafield_owners" (
    "tenant_id" TEXT NOT NULL,
    "owner_type" TEXT NOT NULL,
    "id" BIGINT NOT NULL,
    "gid" TEXT,
    "shopify_updated_at" TIMESTAMPTZ(6) NOT NULL,
    "deleted_at" TIMESTAMPTZ(6),
    "deletion_inferred" BOOLEAN NOT NULL DEFAULT false,
    "synced_at" TIMESTAMPTZ(6) NOT NULL DEFAULT CURRENT_TIMESTAMP,
    "sync_tag" TEXT,

    CONSTRAINT "shopify_metafield_owners_pkey" PRIMARY KEY ("tenant_id","owner_type","id")
);

-- CreateTable
CREATE TABLE "shopify_metafields" (
    "tenant_id" TEXT NOT NULL,
    "id" BIGINT NOT NULL,
    "gid" TEXT,
    "owner_type" TEXT NOT NULL,
    "owner_id" BIGINT NOT NULL,
    "namespace" TEXT NOT NULL,
    "key" TEXT NOT NULL,
    "type" TEXT NOT NULL,
    "value" TEXT NOT NULL,
    "shopify_created_at" TIMESTAMPTZ(6),
    "shopify_updated_at" TIMESTAMPTZ(6) NOT NULL,
    "deleted_at" TIMESTAMPTZ(6),
    "deletion_inferred" BOOLEAN NOT NULL DEFAULT false,
    "synced_at" TIMESTAMPTZ(6) NOT NULL DEFAULT CURRENT_TIMESTAMP,
    "sync_tag" TEXT,

    CONSTRAINT "shopify_metafields_pkey" PRIMARY KEY ("tenant_id","id")
);

-- CreateTable
CREATE TABLE "shopify_discounts" (
    "tenant_id" TEXT NOT NULL,
    "id" BIGINT NOT NULL,
    "gid" TEXT,
    "method" TEXT,
    "discount_type" TEXT,
    "title" TEXT,
    "status" TEXT,
    "summary" TEXT,
    "value_type" TEXT,
    "value" DECIMAL(20,4),
    "value_currency" TEXT,
    "discount_classes" JSONB,
    "usage_limit" INTEGER,
    "applies_once_per_customer" BOOLEAN,
    "async_usage_count" INTEGER,
    "codes_count" INTEGER,
    "total_sales" DECIMAL(20,4),
    "total_sales_currency" TEXT,
    "starts_at" TIMESTAMPTZ(6),
    "ends_at" TIMESTAMPTZ(6),
    "shopify_created_at" TIMESTAMPTZ(6),
    "shopify_updated_at" TIMESTAMPTZ(6) NOT NULL,
    "deleted_at" TIMESTAMPTZ(6),
    "deletion_inferred" BOOLEAN NOT NULL DEFAULT false,
    "payload" JSONB NOT NULL,
    "synced_at" TIMESTAMPTZ(6) NOT NULL DEFAULT CURRENT_TIMESTAMP,
    "sync_tag" TEXT,

    CONSTRAINT "shopify_discounts_pkey" PRIMARY KEY ("tenant_id","id")
);

-- CreateTable
CREATE TABLE "shopify_discount_codes" (
    "tenant_id" TEXT NOT NULL,
    "id" BIGINT NOT NULL,
    "discount_id" BIGINT NOT NULL,
    "code" TEXT NOT NULL,
    "async_usage_count" INTEGER,
    "sync_tag" TEXT,

    CONSTRAINT "shopify_discount_codes_pkey" PRIMARY KEY ("tenant_id","id")
);

-- CreateIndex
CREATE INDEX "shopify_metafields_tenant_id_owner_type_owner_id_idx" ON "shopify_metafields"("tenant_id", "owner_type", "owner_id");

-- CreateIndex
CREATE INDEX "shopify_metafields_tenant_id_namespace_key_idx" ON "shopify_metafields"("tenant_id", "namespace", "key");

-- CreateIndex
CREATE INDEX "shopify_discounts_tenant_id_shopify_updated_at_idx" ON "shopify_discounts"("tenant_id", "shopify_updated_at");

-- CreateIndex
CREATE INDEX "shopify_discount_codes_tenant_id_discount_id_idx" ON "shopify_discount_codes"("tenant_id", "discount_id");

-- CreateIndex
CREATE INDEX "shopify_discount_codes_tenant_id_code_idx" ON "shopify_discount_codes"("tenant_id", "code");

-- AddForeignKey
ALTER TABLE "shopify_metafield_owners" ADD CONSTRAINT "shopify_metafield_owners_tenant_id_fkey" FOREIGN KEY ("tenant_id") REFERENCES "shopify_tenants"("id") ON DELETE CASCADE ON UPDATE CASCADE;

-- AddForeignKey
ALTER TABLE "shopify_metafields" ADD CONSTRAINT "shopify_metafields_tenant_id_fkey" FOREIGN KEY ("tenant_id") REFERENCES "shopify_tenants"("id") ON DELETE CASCADE ON UPDATE CASCADE;

-- AddForeignKey
ALTER TABLE "shopify_metafields" ADD CONSTRAINT "shopify_metafields_tenant_id_owner_type_owner_id_fkey" FOREIGN KEY ("tenant_id", "owner_type", "owner_id") REFERENCES "shopify_metafield_owners"("tenant_id", "owner_type", "id") ON DELETE CASCADE ON UPDATE CASCADE;

-- AddForeignKey
ALTER TABLE "shopify_discounts" ADD CONSTRAINT "shopify_discounts_tenant_id_fkey" FOREIGN KEY ("tenant_id") REFERENCES "shopify_tenants"("id") ON DELETE CASCADE ON UPDATE CASCADE;

-- AddForeignKey
ALTER TABLE "shopify_discount_codes" ADD CONSTRAINT "shopify_discount_codes_tenant_id_fkey" FOREIGN KEY ("tenant_id") REFERENCES "shopify_tenants"("id") ON DELETE CASCADE ON UPDATE CASCADE;

-- AddForeignKey
ALTER TABLE "shopify_discount_codes" ADD CONSTRAINT "shopify_discount_codes_tenant_id_discount_id_fkey" FOREIGN KEY ("tenant_id", "discount_id") REFERENCES "shopify_discounts"("tenant_id", "id") ON DELETE CASCADE ON UPDATE CASCADE;
