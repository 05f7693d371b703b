-- CreateTable
CREATE TABLE "shopify_draft_orders" (
    "tenant_id" TEXT NOT NULL,
    "id" BIGINT NOT NULL,
    "gid" TEXT,
    "name" TEXT,
    "status" TEXT,
    "customer_id" BIGINT,
    "order_id" BIGINT,
    "email_enc" TEXT,
    "email_hash" TEXT,
    "phone_enc" TEXT,
    "billing_address_enc" TEXT,
    "shipping_address_enc" TEXT,
    "shipping_country_code" TEXT,
    "note_enc" TEXT,
    "invoice_url_enc" TEXT,
    "currency" TEXT,
    "presentment_currency" TEXT,
    "subtotal_price" DECIMAL(20,4),
    "subtotal_price_presentment" DECIMAL(20,4),
    "total_discounts" DECIMAL(20,4),
    "total_discounts_presentment" DECIMAL(20,4),
    "total_shipping_price" DECIMAL(20,4),
    "total_shipping_price_presentment" DECIMAL(20,4),
    "total_tax" DECIMAL(20,4),
    "total_tax_presentment" DECIMAL(20,4),
    "total_price" DECIMAL(20,4),
    "total_price_presentment" DECIMAL(20,4),
    "line_item_count" INTEGER,
    "tags" TEXT,
    "taxes_included" BOOLEAN,
    "tax_exempt" BOOLEAN,
    "invoice_sent_at" TIMESTAMPTZ(6),
    "completed_at" TIMESTAMPTZ(6),
    "shopify_created_at" TIMESTAMPTZ(6),
    "shopify_updated_at" TIMESTAMPTZ(6) NOT NULL,
    "deleted_at" TIMESTAMPTZ(6),
    "deletion_inferred" BOOLEAN NOT NULL DEFAULT false,
    "payload" JSONB NOT NULL,
    "synced_at" TIMESTAMPTZ(6) NOT NULL DEFAULT CURRENT_TIMESTAMP,
    "sync_tag" TEXT,

    CONSTRAINT "shopify_draft_orders_pkey" PRIMARY KEY ("tenant_id","id")
);

-- CreateTable
CREATE TABLE "shopify_draft_order_line_items" (
    "tenant_id" TEXT NOT NULL,
    "id" BIGINT NOT NULL,
    "draft_order_id" BIGINT NOT NULL,
    "product_id" BIGINT,
    "variant_id" BIGINT,
    "title" TEXT,
    "variant_title" TEXT,
    "sku" TEXT,
    "vendor" TEXT,
    "custom" BOOLEAN,
    "quantity" INTEGER NOT NULL,
    "price" DECIMAL(20,4),
    "price_presentment" DECIMAL(20,4),
    "original_total" DECIMAL(20,4),
    "original_total_presentment" DECIMAL(20,4),
    "discounted_total" DECIMAL(20,4),
    "discounted_total_presentment" DECIMAL(20,4),
    "total_discount" DECIMAL(20,4),
    "total_discount_presentment" DECIMAL(20,4),
    "payload" JSONB NOT NULL,
    "sync_tag" TEXT,

    CONSTRAINT "shopify_draft_order_line_items_pkey" PRIMARY KEY ("tenant_id","id")
);

-- CreateTable
CREATE TABLE "shopify_abandoned_checkouts" (
    "tenant_id" TEXT NOT NULL,
    "id" BIGINT NOT NULL,
    "gid" TEXT,
    "name" TEXT,
    "customer_id" BIGINT,
    "email_enc" TEXT,
    "email_hash" TEXT,
    "phone_enc" TEXT,
    "billing_address_enc" TEXT,
    "shipping_address_enc" TEXT,
    "shipping_country_code" TEXT,
    "note_enc" TEXT,
    "recovery_url_enc" TEXT,
    "currency" TEXT,
    "presentment_currency" TEXT,
    "subtotal_price" DECIMAL(20,4),
    "subtotal_price_presentment" DECIMAL(20,4),
    "total_discounts" DECIMAL(20,4),
    "total_discounts_presentment" DECIMAL(20,4),
    "total_tax" DECIMAL(20,4),
    "total_tax_presentment" DECIMAL(20,4),
    "total_price" DECIMAL(20,4),
    "total_price_presentment" DECIMAL(20,4),
    "line_item_count" INTEGER,
    "discount_codes" TEXT,
    "taxes_included" BOOLEAN,
    "completed_at" TIMESTAMPTZ(6),
    "shopify_created_at" TIMESTAMPTZ(6),
    "shopify_updated_at" TIMESTAMPTZ(6) NOT NULL,
    "deleted_at" TIMESTAMPTZ(6),
    "deletion_inferred" BOOLEAN NOT NULL DEFAULT false,
    "payload" JSONB NOT NULL,
    "synced_at" TIMESTAMPTZ(6) NOT NULL DEFAULT CURRENT_TIMESTAMP,
    "sync_tag" TEXT,

    CONSTRAINT "shopify_abandoned_checkouts_pkey" PRIMARY KEY ("tenant_id","id")
);

-- CreateTable
CREATE TABLE "shopify_abandoned_checkout_line_items" (
    "tenant_id" TEXT NOT NULL,
    "id" BIGINT NOT NULL,
    "checkout_id" BIGINT NOT NULL,
    "product_id" BIGINT,
    "variant_id" BIGINT,
    "title" TEXT,
    "variant_title" TEXT,
    "sku" TEXT,
    "quantity" INTEGER NOT NULL,
    "price" DECIMAL(20,4),
    "price_presentment" DECIMAL(20,4),
    "original_total" DECIMAL(20,4),
    "original_total_presentment" DECIMAL(20,4),
    "discounted_total" DECIMAL(20,4),
    "discounted_total_presentment" DECIMAL(20,4),
    "payload" JSONB NOT NULL,
    "sync_tag" TEXT,

    CONSTRAINT "shopify_abandoned_checkout_line_items_pkey" PRIMARY KEY ("tenant_id","id")
);

-- CreateIndex
CREATE INDEX "shopify_draft_orders_tenant_id_shopify_updated_at_idx" ON "shopify_draft_orders"("tenant_id", "shopify_updated_at");

-- CreateIndex
CREATE INDEX "shopify_draft_orders_tenant_id_customer_id_idx" ON "shopify_draft_orders"("tenant_id", "customer_id");

-- CreateIndex
CREATE INDEX "shopify_draft_orders_tenant_id_order_id_idx" ON "shopify_draft_orders"("tenant_id", "order_id");

-- CreateIndex
CREATE INDEX "shopify_draft_orders_tenant_id_email_hash_idx" ON "shopify_draft_orders"("tenant_id", "email_hash");

-- CreateIndex
CREATE INDEX "shopify_draft_order_line_items_tenant_id_draft_order_id_idx" ON "shopify_draft_order_line_items"("tenant_id", "draft_order_id");

-- CreateIndex
CREATE INDEX "shopify_draft_order_line_items_tenant_id_variant_id_idx" ON "shopify_draft_order_line_items"("tenant_id", "variant_id");

-- CreateIndex
CREATE INDEX "shopify_abandoned_checkouts_tenant_id_shopify_updated_at_idx" ON "shopify_abandoned_checkouts"("tenant_id", "shopify_updated_at");

-- CreateIndex
CREATE INDEX "shopify_abandoned_checkouts_tenant_id_shopify_created_at_idx" ON "shopify_abandoned_checkouts"("tenant_id", "shopify_created_at");

-- CreateIndex
CREATE INDEX "shopify_abandoned_checkouts_tenant_id_customer_id_idx" ON "shopify_abandoned_checkouts"("tenant_id", "customer_id");

-- CreateIndex
CREATE INDEX "shopify_abandoned_checkouts_tenant_id_email_hash_idx" ON "shopify_abandoned_checkouts"("tenant_id", "email_hash");

-- CreateIndex
CREATE INDEX "shopify_abandoned_checkout_line_items_tenant_id_checkout_id_idx" ON "shopify_abandoned_checkout_line_items"("tenant_id", "checkout_id");

-- CreateIndex
CREATE INDEX "shopify_abandoned_checkout_line_items_tenant_id_variant_id_idx" ON "shopify_abandoned_checkout_line_items"("tenant_id", "variant_id");

-- AddForeignKey
ALTER TABLE "shopify_draft_orders" ADD CONSTRAINT "shopify_draft_orders_tenant_id_fkey" FOREIGN KEY ("tenant_id") REFERENCES "shopify_tenants"("id") ON DELETE CASCADE ON UPDATE CASCADE;

-- AddForeignKey
ALTER TABLE "shopify_draft_order_line_items" ADD CONSTRAINT "shopify_draft_order_line_items_tenant_id_fkey" FOREIGN KEY ("tenant_id") REFERENCES "shopify_tenants"("id") ON DELETE CASCADE ON UPDATE CASCADE;

-- AddForeignKey
ALTER TABLE "shopify_draft_order_line_items" ADD CONSTRAINT "shopify_draft_order_line_items_tenant_id_draft_order_id_fkey" FOREIGN KEY ("tenant_id", "draft_order_id") REFERENCES "shopify_draft_orders"("tenant_id", "id") ON DELETE CASCADE ON UPDATE CASCADE;

-- AddForeignKey
ALTER TABLE "shopify_abandoned_checkouts" ADD CONSTRAINT "shopify_abandoned_checkouts_tenant_id_fkey" FOREIGN KEY ("tenant_id") REFERENCES "shopify_tenants"("id") ON DELETE CASCADE ON UPDATE CASCADE;

-- AddForeignKey
ALTER TABLE "shopify_abandoned_checkout_line_items" ADD CONSTRAINT "shopify_abandoned_checkout_line_items_tenant_id_fkey" FOREIGN KEY ("tenant_id") REFERENCES "shopify_tenants"("id") ON DELETE CASCADE ON UPDATE CASCADE;

-- AddForeignKey
ALTER TABLE "shopify_abandoned_checkout_line_items" ADD CONSTRAINT "shopify_abandoned_checkout_line_items_tenant_id_checkout_i_fkey" FOREIGN KEY ("tenant_id", "checkout_id") REFERENCES "shopify_abandoned_checkouts"("tenant_id", "id") ON DELETE CASCADE ON UPDATE CASCADE;
