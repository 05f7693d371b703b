-- CreateTable
CREATE TABLE "shopify_shop" (
    "tenant_id" TEXT NOT NULL,
    "id" BIGINT NOT NULL,
    "gid" TEXT,
    "name" TEXT,
    "myshopify_domain" TEXT,
    "primary_domain" TEXT,
    "currency" TEXT,
    "iana_timezone" TEXT,
    "plan_name" TEXT,
    "shopify_plus" BOOLEAN,
    "partner_development" BOOLEAN,
    "shopify_created_at" TIMESTAMPTZ(6),
    "shopify_updated_at" TIMESTAMPTZ(6) NOT NULL,
    "deleted_at" TIMESTAMPTZ(6),
    "deletion_inferred" BOOLEAN NOT NULL DEFAULT false,
    "payload" JSONB NOT NULL,
    "synced_at" TIMESTAMPTZ(6) NOT NULL DEFAULT CURRENT_TIMESTAMP,

    CONSTRAINT "shopify_shop_pkey" PRIMARY KEY ("tenant_id","id")
);

-- CreateTable
CREATE TABLE "shopify_locations" (
    "tenant_id" TEXT NOT NULL,
    "id" BIGINT NOT NULL,
    "gid" TEXT,
    "name" TEXT,
    "is_active" BOOLEAN,
    "fulfills_online_orders" BOOLEAN,
    "address1_enc" TEXT,
    "address2_enc" TEXT,
    "city" TEXT,
    "province" TEXT,
    "province_code" TEXT,
    "country" TEXT,
    "country_code" TEXT,
    "zip_enc" TEXT,
    "phone_enc" TEXT,
    "deactivated_at" TIMESTAMPTZ(6),
    "shopify_created_at" TIMESTAMPTZ(6),
    "shopify_updated_at" TIMESTAMPTZ(6) NOT NULL,
    "deleted_at" TIMESTAMPTZ(6),
    "deletion_inferred" BOOLEAN NOT NULL DEFAULT false,
    "payload" JSONB NOT NULL,
    "synced_at" TIMESTAMPTZ(6) NOT NULL DEFAULT CURRENT_TIMESTAMP,

    CONSTRAINT "shopify_locations_pkey" PRIMARY KEY ("tenant_id","id")
);

-- CreateTable
CREATE TABLE "shopify_inventory_items" (
    "tenant_id" TEXT NOT NULL,
    "id" BIGINT NOT NULL,
    "gid" TEXT,
    "sku" TEXT,
    "tracked" BOOLEAN,
    "unit_cost" DECIMAL(20,4),
    "unit_cost_currency" TEXT,
    "requires_shipping" BOOLEAN,
    "country_code_of_origin" TEXT,
    "variant_id" BIGINT,
    "shopify_created_at" TIMESTAMPTZ(6),
    "shopify_updated_at" TIMESTAMPTZ(6) NOT NULL,
    "deleted_at" TIMESTAMPTZ(6),
    "deletion_inferred" BOOLEAN NOT NULL DEFAULT false,
    "payload" JSONB NOT NULL,
    "synced_at" TIMESTAMPTZ(6) NOT NULL DEFAULT CURRENT_TIMESTAMP,
    "sync_tag" TEXT,

    CONSTRAINT "shopify_inventory_items_pkey" PRIMARY KEY ("tenant_id","id")
);

-- CreateTable
CREATE TABLE "shopify_inventory_levels" (
    "tenant_id" TEXT NOT NULL,
    "inventory_item_id" BIGINT NOT NULL,
    "location_id" BIGINT NOT NULL,
    "gid" TEXT,
    "available" INTEGER,
    "on_hand" INTEGER,
    "committed" INTEGER,
    "incoming" INTEGER,
    "reserved" INTEGER,
    "damaged" INTEGER,
    "safety_stock" INTEGER,
    "quality_control" INTEGER,
    "shopify_created_at" TIMESTAMPTZ(6),
    "shopify_updated_at" TIMESTAMPTZ(6),
    "sync_tag" TEXT,

    CONSTRAINT "shopify_inventory_levels_pkey" PRIMARY KEY ("tenant_id","inventory_item_id","location_id")
);

-- CreateTable
CREATE TABLE "shopify_collections" (
    "tenant_id" TEXT NOT NULL,
    "id" BIGINT NOT NULL,
    "gid" TEXT,
    "title" TEXT,
    "handle" TEXT,
    "collection_type" TEXT,
    "sort_order" TEXT,
    "rules" JSONB,
    "disjunctive" BOOLEAN,
    "shopify_updated_at" TIMESTAMPTZ(6) NOT NULL,
    "deleted_at" TIMESTAMPTZ(6),
    "deletion_inferred" BOOLEAN NOT NULL DEFAULT false,
    "payload" JSONB NOT NULL,
    "synced_at" TIMESTAMPTZ(6) NOT NULL DEFAULT CURRENT_TIMESTAMP,
    "sync_tag" TEXT,

    CONSTRAINT "shopify_collections_pkey" PRIMARY KEY ("tenant_id","id")
);

-- CreateTable
CREATE TABLE "shopify_collection_products" (
    "tenant_id" TEXT NOT NULL,
    "collection_id" BIGINT NOT NULL,
    "product_id" BIGINT NOT NULL,
    "sync_tag" TEXT,

    CONSTRAINT "shopify_collection_products_pkey" PRIMARY KEY ("tenant_id","collection_id","product_id")
);

-- CreateIndex
CREATE INDEX "shopify_locations_tenant_id_shopify_updated_at_idx" ON "shopify_locations"("tenant_id", "shopify_updated_at");

-- CreateIndex
CREATE INDEX "shopify_inventory_items_tenant_id_shopify_updated_at_idx" ON "shopify_inventory_items"("tenant_id", "shopify_updated_at");

-- CreateIndex
CREATE INDEX "shopify_inventory_items_tenant_id_variant_id_idx" ON "shopify_inventory_items"("tenant_id", "variant_id");

-- CreateIndex
CREATE INDEX "shopify_inventory_items_tenant_id_sku_idx" ON "shopify_inventory_items"("tenant_id", "sku");

-- CreateIndex
CREATE INDEX "shopify_inventory_levels_tenant_id_location_id_idx" ON "shopify_inventory_levels"("tenant_id", "location_id");

-- CreateIndex
CREATE INDEX "shopify_collections_tenant_id_shopify_updated_at_idx" ON "shopify_collections"("tenant_id", "shopify_updated_at");

-- CreateIndex
CREATE INDEX "shopify_collection_products_tenant_id_product_id_idx" ON "shopify_collection_products"("tenant_id", "product_id");

-- AddForeignKey
ALTER TABLE "shopify_shop" ADD CONSTRAINT "shopify_shop_tenant_id_fkey" FOREIGN KEY ("tenant_id") REFERENCES "shopify_tenants"("id") ON DELETE CASCADE ON UPDATE CASCADE;

-- AddForeignKey
ALTER TABLE "shopify_locations" ADD CONSTRAINT "shopify_locations_tenant_id_fkey" FOREIGN KEY ("tenant_id") REFERENCES "shopify_tenants"("id") ON DELETE CASCADE ON UPDATE CASCADE;

-- AddForeignKey
ALTER TABLE "shopify_inventory_items" ADD CONSTRAINT "shopify_inventory_items_tenant_id_fkey" FOREIGN KEY ("tenant_id") REFERENCES "shopify_tenants"("id") ON DELETE CASCADE ON UPDATE CASCADE;

-- AddForeignKey
ALTER TABLE "shopify_inventory_levels" ADD CONSTRAINT "shopify_inventory_levels_tenant_id_fkey" FOREIGN KEY ("tenant_id") REFERENCES "shopify_tenants"("id") ON DELETE CASCADE ON UPDATE CASCADE;

-- AddForeignKey
ALTER TABLE "shopify_inventory_levels" ADD CONSTRAINT "shopify_inventory_levels_tenant_id_inventory_item_id_fkey" FOREIGN KEY ("tenant_id", "inventory_item_id") REFERENCES "shopify_inventory_items"("tenant_id", "id") ON DELETE CASCADE ON UPDATE CASCADE;

-- AddForeignKey
ALTER TABLE "shopify_collections" ADD CONSTRAINT "shopify_collections_tenant_id_fkey" FOREIGN KEY ("tenant_id") REFERENCES "shopify_tenants"("id") ON DELETE CASCADE ON UPDATE CASCADE;

-- AddForeignKey
ALTER TABLE "shopify_collection_products" ADD CONSTRAINT "shopify_collection_products_tenant_id_fkey" FOREIGN KEY ("tenant_id") REFERENCES "shopify_tenants"("id") ON DELETE CASCADE ON UPDATE CASCADE;

-- AddForeignKey
ALTER TABLE "shopify_collection_products" ADD CONSTRAINT "shopify_collection_products_tenant_id_collection_id_fkey" FOREIGN KEY ("tenant_id", "collection_id") REFERENCES "shopify_collections"("tenant_id", "id") ON DELETE CASCADE ON UPDATE CASCADE;
