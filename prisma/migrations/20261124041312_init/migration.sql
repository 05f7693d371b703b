-- CreateSchema
CREATE SCHEMA IF NOT EXISTS "public";

-- CreateTable
CREATE TABLE "shopify_tenants" (
    "id" TEXT NOT NULL,
    "name" TEXT,
    "shop_domain" TEXT NOT NULL,
    "access_token_enc" TEXT NOT NULL,
    "scopes" TEXT,
    "is_active" BOOLEAN NOT NULL DEFAULT true,
    "sync_status" TEXT NOT NULL DEFAULT 'idle',
    "last_sync_at" TIMESTAMPTZ(6),
    "last_error" TEXT,
    "config" JSONB NOT NULL DEFAULT '{}',
    "created_at" TIMESTAMPTZ(6) NOT NULL DEFAULT CURRENT_TIMESTAMP,
    "updated_at" TIMESTAMPTZ(6) NOT NULL DEFAULT CURRENT_TIMESTAMP,
    "deactivated_at" TIMESTAMPTZ(6),

    CONSTRAINT "shopify_tenants_pkey" PRIMARY KEY ("id")
);

-- CreateTable
CREATE TABLE "shopify_customers" (
    "tenant_id" TEXT NOT NULL,
    "id" BIGINT NOT NULL,
    "email_enc" TEXT,
    "email_hash" TEXT,
    "first_name_enc" TEXT,
    "last_name_enc" TEXT,
    "phone_enc" TEXT,
    "addresses_enc" TEXT,
    "state" TEXT,
    "verified_email" BOOLEAN,
    "accepts_marketing" BOOLEAN,
    "tags" TEXT,
    "currency" TEXT,
    "orders_count" INTEGER,
    "total_spent" DECIMAL(20,4),
    "shopify_created_at" TIMESTAMPTZ(6),
    "shopify_updated_at" TIMESTAMPTZ(6) NOT NULL,
    "deleted_at" TIMESTAMPTZ(6),
    "payload" JSONB NOT NULL,
    "synced_at" TIMESTAMPTZ(6) NOT NULL DEFAULT CURRENT_TIMESTAMP,

    CONSTRAINT "shopify_customers_pkey" PRIMARY KEY ("tenant_id","id")
);

-- CreateTable
CREATE TABLE "shopify_products" (
    "tenant_id" TEXT NOT NULL,
    "id" BIGINT NOT NULL,
    "title" TEXT,
    "handle" TEXT,
    "vendor" TEXT,
    "product_type" TEXT,
    "status" TEXT,
    "tags" TEXT,
    "published_at" TIMESTAMPTZ(6),
    "shopify_created_at" TIMESTAMPTZ(6),
    "shopify_updated_at" TIMESTAMPTZ(6) NOT NULL,
    "deleted_at" TIMESTAMPTZ(6),
    "payload" JSONB NOT NULL,
    "synced_at" TIMESTAMPTZ(6) NOT NULL DEFAULT CURRENT_TIMESTAMP,

    CONSTRAINT "shopify_products_pkey" PRIMARY KEY ("tenant_id","id")
);

-- CreateTable
CREATE TABLE "shopify_product_variants" (
    "tenant_id" TEXT NOT NULL,
    "id" BIGINT NOT NULL,
    "product_id" BIGINT NOT NULL,
    "title" TEXT,
    "sku" TEXT,
    "barcode" TEXT,
    "position" INTEGER,
    "price" DECIMAL(20,4),
    "compare_at_price" DECIMAL(20,4),
    "inventory_quantity" INTEGER,
    "inventory_item_id" BIGINT,
    "shopify_created_at" TIMESTAMPTZ(6),
    "shopify_updated_at" TIMESTAMPTZ(6) NOT NULL,
    "deleted_at" TIMESTAMPTZ(6),
    "payload" JSONB NOT NULL,
    "synced_at" TIMESTAMPTZ(6) NOT NULL DEFAULT CURRENT_TIMESTAMP,

    CONSTRAINT "shopify_product_variants_pkey" PRIMARY KEY ("tenant_id","id")
);

-- CreateTable
CREATE TABLE "shopify_orders" (
    "tenant_id" TEXT NOT NULL,
    "id" BIGINT NOT NULL,
    "name" TEXT,
    "order_number" INTEGER,
    "customer_id" BIGINT,
    "email_enc" TEXT,
    "email_hash" TEXT,
    "phone_enc" TEXT,
    "financial_status" TEXT,
    "fulfillment_status" TEXT,
    "cancel_reason" TEXT,
    "cancelled_at" TIMESTAMPTZ(6),
    "closed_at" TIMESTAMPTZ(6),
    "processed_at" TIMESTAMPTZ(6),
    "currency" TEXT,
    "subtotal_price" DECIMAL(20,4),
    "total_price" DECIMAL(20,4),
    "total_tax" DECIMAL(20,4),
    "total_discounts" DECIMAL(20,4),
    "total_refunded" DECIMAL(20,4),
    "line_item_count" INTEGER,
    "tags" TEXT,
    "source_name" TEXT,
    "test" BOOLEAN,
    "shopify_created_at" TIMESTAMPTZ(6),
    "shopify_updated_at" TIMESTAMPTZ(6) NOT NULL,
    "deleted_at" TIMESTAMPTZ(6),
    "payload" JSONB NOT NULL,
    "synced_at" TIMESTAMPTZ(6) NOT NULL DEFAULT CURRENT_TIMESTAMP,

    CONSTRAINT "shopify_orders_pkey" PRIMARY KEY ("tenant_id","id")
);

-- CreateTable
CREATE TABLE "shopify_order_line_items" (
    "tenant_id" TEXT NOT NULL,
    "id" BIGINT NOT NULL,
    "order_id" BIGINT NOT NULL,
    "product_id" BIGINT,
    "variant_id" BIGINT,
    "title" TEXT,
    "variant_title" TEXT,
    "sku" TEXT,
    "vendor" TEXT,
    "quantity" INTEGER NOT NULL,
    "price" DECIMAL(20,4),
    "total_discount" DECIMAL(20,4),
    "fulfillment_status" TEXT,
    "payload" JSONB NOT NULL,

    CONSTRAINT "shopify_order_line_items_pkey" PRIMARY KEY ("tenant_id","id")
);

-- CreateTable
CREATE TABLE "shopify_order_events" (
    "tenant_id" TEXT NOT NULL,
    "order_id" BIGINT NOT NULL,
    "type" TEXT NOT NULL,
    "source_id" BIGINT NOT NULL,
    "occurred_at" TIMESTAMPTZ(6) NOT NULL,
    "amount" DECIMAL(20,4),

    CONSTRAINT "shopify_order_events_pkey" PRIMARY KEY ("tenant_id","order_id","type","source_id")
);

-- CreateTable
CREATE TABLE "shopify_sync_checkpoints" (
    "tenant_id" TEXT NOT NULL,
    "resource" TEXT NOT NULL,
    "watermark" TIMESTAMPTZ(6),
    "cursor" TEXT,
    "run_id" TEXT,
    "full_sync_completed_at" TIMESTAMPTZ(6),
    "updated_at" TIMESTAMPTZ(6) NOT NULL DEFAULT CURRENT_TIMESTAMP,

    CONSTRAINT "shopify_sync_checkpoints_pkey" PRIMARY KEY ("tenant_id","resource")
);

-- CreateTable
CREATE TABLE "shopify_sync_runs" (
    "id" TEXT NOT NULL,
    "tenant_id" TEXT NOT NULL,
    "resource" TEXT NOT NULL,
    "mode" TEXT NOT NULL,
    "status" TEXT NOT NULL,
    "fetched" INTEGER NOT NULL DEFAULT 0,
    "imported" INTEGER NOT NULL DEFAULT 0,
    "skipped" INTEGER NOT NULL DEFAULT 0,
    "failed" INTEGER NOT NULL DEFAULT 0,
    "error" TEXT,
    "options" JSONB NOT NULL DEFAULT '{}',
    "started_at" TIMESTAMPTZ(6) NOT NULL DEFAULT CURRENT_TIMESTAMP,
    "finished_at" TIMESTAMPTZ(6),

    CONSTRAINT "shopify_sync_runs_pkey" PRIMARY KEY ("id")
);

-- CreateTable
CREATE TABLE "shopify_sync_failures" (
    "id" BIGSERIAL NOT NULL,
    "run_id" TEXT NOT NULL,
    "tenant_id" TEXT NOT NULL,
    "resource" TEXT NOT NULL,
    "shopify_id" BIGINT,
    "reason" TEXT NOT NULL,
    "created_at" TIMESTAMPTZ(6) NOT NULL DEFAULT CURRENT_TIMESTAMP,

    CONSTRAINT "shopify_sync_failures_pkey" PRIMARY KEY ("id")
);

-- CreateTable
CREATE TABLE "shopify_webhook_inbox" (
    "id" TEXT NOT NULL,
    "tenant_id" TEXT NOT NULL,
    "webhook_id" TEXT NOT NULL,
    "event_id" TEXT,
    "topic" TEXT NOT NULL,
    "shop_domain" TEXT NOT NULL,
    "api_version" TEXT,
    "triggered_at" TIMESTAMPTZ(6),
    "body_enc" TEXT,
    "status" TEXT NOT NULL DEFAULT 'pending',
    "attempts" INTEGER NOT NULL DEFAULT 0,
    "last_error" TEXT,
    "next_attempt_at" TIMESTAMPTZ(6) NOT NULL DEFAULT CURRENT_TIMESTAMP,
    "locked_at" TIMESTAMPTZ(6),
    "locked_by" TEXT,
    "duplicates" INTEGER NOT NULL DEFAULT 0,
    "received_at" TIMESTAMPTZ(6) NOT NULL DEFAULT CURRENT_TIMESTAMP,
    "processed_at" TIMESTAMPTZ(6),

    CONSTRAINT "shopify_webhook_inbox_pkey" PRIMARY KEY ("id")
);

-- CreateTable
CREATE TABLE "shopify_scheduler_leases" (
    "job_id" TEXT NOT NULL,
    "run_key" TEXT NOT NULL,
    "holder" TEXT NOT NULL,
    "acquired_at" TIMESTAMPTZ(6) NOT NULL DEFAULT CURRENT_TIMESTAMP,
    "expires_at" TIMESTAMPTZ(6) NOT NULL,

    CONSTRAINT "shopify_scheduler_leases_pkey" PRIMARY KEY ("job_id","run_key")
);

-- CreateIndex
CREATE UNIQUE INDEX "shopify_tenants_shop_domain_key" ON "shopify_tenants"("shop_domain");

-- CreateIndex
CREATE INDEX "shopify_customers_tenant_id_email_hash_idx" ON "shopify_customers"("tenant_id", "email_hash");

-- CreateIndex
CREATE INDEX "shopify_customers_tenant_id_shopify_updated_at_idx" ON "shopify_customers"("tenant_id", "shopify_updated_at");

-- CreateIndex
CREATE INDEX "shopify_products_tenant_id_shopify_updated_at_idx" ON "shopify_products"("tenant_id", "shopify_updated_at");

-- CreateIndex
CREATE INDEX "shopify_products_tenant_id_status_idx" ON "shopify_products"("tenant_id", "status");

-- CreateIndex
CREATE INDEX "shopify_product_variants_tenant_id_product_id_idx" ON "shopify_product_variants"("tenant_id", "product_id");

-- CreateIndex
CREATE INDEX "shopify_product_variants_tenant_id_sku_idx" ON "shopify_product_variants"("tenant_id", "sku");

-- CreateIndex
CREATE INDEX "shopify_orders_tenant_id_shopify_updated_at_idx" ON "shopify_orders"("tenant_id", "shopify_updated_at");

-- CreateIndex
CREATE INDEX "shopify_orders_tenant_id_shopify_created_at_idx" ON "shopify_orders"("tenant_id", "shopify_created_at");

-- CreateIndex
CREATE INDEX "shopify_orders_tenant_id_customer_id_idx" ON "shopify_orders"("tenant_id", "customer_id");

-- CreateIndex
CREATE INDEX "shopify_orders_tenant_id_financial_status_idx" ON "shopify_orders"("tenant_id", "financial_status");

-- CreateIndex
CREATE INDEX "shopify_orders_tenant_id_email_hash_idx" ON "shopify_orders"("tenant_id", "email_hash");

-- CreateIndex
CREATE INDEX "shopify_order_line_items_tenant_id_order_id_idx" ON "shopify_order_line_items"("tenant_id", "order_id");

-- CreateIndex
CREATE INDEX "shopify_order_line_items_tenant_id_product_id_idx" ON "shopify_order_line_items"("tenant_id", "product_id");

-- CreateIndex
CREATE INDEX "shopify_order_events_tenant_id_type_occurred_at_idx" ON "shopify_order_events"("tenant_id", "type", "occurred_at");

-- CreateIndex
CREATE INDEX "shopify_sync_runs_tenant_id_resource_started_at_idx" ON "shopify_sync_runs"("tenant_id", "resource", "started_at");

-- CreateIndex
CREATE INDEX "shopify_sync_failures_tenant_id_run_id_idx" ON "shopify_sync_failures"("tenant_id", "run_id");

-- CreateIndex
CREATE INDEX "shopify_webhook_inbox_status_next_attempt_at_idx" ON "shopify_webhook_inbox"("status", "next_attempt_at");

-- CreateIndex
CREATE INDEX "shopify_webhook_inbox_tenant_id_topic_received_at_idx" ON "shopify_webhook_inbox"("tenant_id", "topic", "received_at");

-- CreateIndex
CREATE UNIQUE INDEX "shopify_webhook_inbox_tenant_id_webhook_id_key" ON "shopify_webhook_inbox"("tenant_id", "webhook_id");

-- CreateIndex
CREATE INDEX "shopify_scheduler_leases_expires_at_idx" ON "shopify_scheduler_leases"("expires_at");

-- AddForeignKey
ALTER TABLE "shopify_customers" ADD CONSTRAINT "shopify_customers_tenant_id_fkey" FOREIGN KEY ("tenant_id") REFERENCES "shopify_tenants"("id") ON DELETE CASCADE ON UPDATE CASCADE;

-- AddForeignKey
ALTER TABLE "shopify_products" ADD CONSTRAINT "shopify_products_tenant_id_fkey" FOREIGN KEY ("tenant_id") REFERENCES "shopify_tenants"("id") ON DELETE CASCADE ON UPDATE CASCADE;

-- AddForeignKey
ALTER TABLE "shopify_product_variants" ADD CONSTRAINT "shopify_product_variants_tenant_id_fkey" FOREIGN KEY ("tenant_id") REFERENCES "shopify_tenants"("id") ON DELETE CASCADE ON UPDATE CASCADE;

-- AddForeignKey
ALTER TABLE "shopify_product_variants" ADD CONSTRAINT "shopify_product_variants_tenant_id_product_id_fkey" FOREIGN KEY ("tenant_id", "product_id") REFERENCES "shopify_products"("tenant_id", "id") ON DELETE CASCADE ON UPDATE CASCADE;

-- AddForeignKey
ALTER TABLE "shopify_orders" ADD CONSTRAINT "shopify_orders_tenant_id_fkey" FOREIGN KEY ("tenant_id") REFERENCES "shopify_tenants"("id") ON DELETE CASCADE ON UPDATE CASCADE;

-- AddForeignKey
ALTER TABLE "shopify_order_line_items" ADD CONSTRAINT "shopify_order_line_items_tenant_id_fkey" FOREIGN KEY ("tenant_id") REFERENCES "shopify_tenants"("id") ON DELETE CASCADE ON UPDATE CASCADE;

-- AddForeignKey
ALTER TABLE "shopify_order_line_items" ADD CONSTRAINT "shopify_order_line_items_tenant_id_order_id_fkey" FOREIGN KEY ("tenant_id", "order_id") REFERENCES "shopify_orders"("tenant_id", "id") ON DELETE CASCADE ON UPDATE CASCADE;

-- AddForeignKey
ALTER TABLE "shopify_order_events" ADD CONSTRAINT "shopify_order_events_tenant_id_fkey" FOREIGN KEY ("tenant_id") REFERENCES "shopify_tenants"("id") ON DELETE CASCADE ON UPDATE CASCADE;

-- AddForeignKey
ALTER TABLE "shopify_order_events" ADD CONSTRAINT "shopify_order_events_tenant_id_order_id_fkey" FOREIGN KEY ("tenant_id", "order_id") REFERENCES "shopify_orders"("tenant_id", "id") ON DELETE CASCADE ON UPDATE CASCADE;

-- AddForeignKey
ALTER TABLE "shopify_sync_checkpoints" ADD CONSTRAINT "shopify_sync_checkpoints_tenant_id_fkey" FOREIGN KEY ("tenant_id") REFERENCES "shopify_tenants"("id") ON DELETE CASCADE ON UPDATE CASCADE;

-- AddForeignKey
ALTER TABLE "shopify_sync_runs" ADD CONSTRAINT "shopify_sync_runs_tenant_id_fkey" FOREIGN KEY ("tenant_id") REFERENCES "shopify_tenants"("id") ON DELETE CASCADE ON UPDATE CASCADE;

-- AddForeignKey
ALTER TABLE "shopify_sync_failures" ADD CONSTRAINT "shopify_sync_failures_run_id_fkey" FOREIGN KEY ("run_id") REFERENCES "shopify_sync_runs"("id") ON DELETE CASCADE ON UPDATE CASCADE;

-- AddForeignKey
ALTER TABLE "shopify_sync_failures" ADD CONSTRAINT "shopify_sync_failures_tenant_id_fkey" FOREIGN KEY ("tenant_id") REFERENCES "shopify_tenants"("id") ON DELETE CASCADE ON UPDATE CASCADE;

-- AddForeignKey
ALTER TABLE "shopify_webhook_inbox" ADD CONSTRAINT "shopify_webhook_inbox_tenant_id_fkey" FOREIGN KEY ("tenant_id") REFERENCES "shopify_tenants"("id") ON DELETE CASCADE ON UPDATE CASCADE;
