-- CreateTable
CREATE TABLE "shopify_refunds" (
    "tenant_id" TEXT NOT NULL,
    "id" BIGINT NOT NULL,
    "order_id" BIGINT NOT NULL,
    "note" TEXT,
    "total_refunded" DECIMAL(20,4),
    "total_refunded_presentment" DECIMAL(20,4),
    "currency" TEXT,
    "presentment_currency" TEXT,
    "shopify_created_at" TIMESTAMPTZ(6),
    "processed_at" TIMESTAMPTZ(6),
    "shopify_updated_at" TIMESTAMPTZ(6) NOT NULL,
    "deleted_at" TIMESTAMPTZ(6),
    "deletion_inferred" BOOLEAN NOT NULL DEFAULT false,
    "payload" JSONB NOT NULL,
    "synced_at" TIMESTAMPTZ(6) NOT NULL DEFAULT CURRENT_TIMESTAMP,

    CONSTRAINT "shopify_refunds_pkey" PRIMARY KEY ("tenant_id","id")
);

-- CreateTable
CREATE TABLE "shopify_refund_line_items" (
    "tenant_id" TEXT NOT NULL,
    "id" BIGINT NOT NULL,
    "refund_id" BIGINT NOT NULL,
    "order_id" BIGINT NOT NULL,
    "line_item_id" BIGINT,
    "location_id" BIGINT,
    "quantity" INTEGER NOT NULL,
    "restock_type" TEXT,
    "subtotal" DECIMAL(20,4),
    "subtotal_presentment" DECIMAL(20,4),
    "total_tax" DECIMAL(20,4),
    "total_tax_presentment" DECIMAL(20,4),

    CONSTRAINT "shopify_refund_line_items_pkey" PRIMARY KEY ("tenant_id","id")
);

-- CreateTable
CREATE TABLE "shopify_refund_order_adjustments" (
    "tenant_id" TEXT NOT NULL,
    "id" BIGINT NOT NULL,
    "refund_id" BIGINT NOT NULL,
    "order_id" BIGINT NOT NULL,
    "reason" TEXT,
    "amount" DECIMAL(20,4),
    "amount_presentment" DECIMAL(20,4),
    "tax_amount" DECIMAL(20,4),
    "tax_amount_presentment" DECIMAL(20,4),

    CONSTRAINT "shopify_refund_order_adjustments_pkey" PRIMARY KEY ("tenant_id","id")
);

-- CreateTable
CREATE TABLE "shopify_order_transactions" (
    "tenant_id" TEXT NOT NULL,
    "id" BIGINT NOT NULL,
    "order_id" BIGINT NOT NULL,
    "parent_id" BIGINT,
    "kind" TEXT,
    "status" TEXT,
    "gateway" TEXT,
    "amount" DECIMAL(20,4),
    "amount_presentment" DECIMAL(20,4),
    "currency" TEXT,
    "presentment_currency" TEXT,
    "error_code" TEXT,
    "test" BOOLEAN,
    "card_company" TEXT,
    "shopify_created_at" TIMESTAMPTZ(6),
    "processed_at" TIMESTAMPTZ(6),
    "shopify_updated_at" TIMESTAMPTZ(6) NOT NULL,
    "deleted_at" TIMESTAMPTZ(6),
    "deletion_inferred" BOOLEAN NOT NULL DEFAULT false,
    "payload" JSONB NOT NULL,
    "synced_at" TIMESTAMPTZ(6) NOT NULL DEFAULT CURRENT_TIMESTAMP,

    CONSTRAINT "shopify_order_transactions_pkey" PRIMARY KEY ("tenant_id","id")
);

-- CreateTable
CREATE TABLE "shopify_fulfillments" (
    "tenant_id" TEXT NOT NULL,
    "id" BIGINT NOT NULL,
    "order_id" BIGINT NOT NULL,
    "name" TEXT,
    "status" TEXT,
    "display_status" TEXT,
    "location_id" BIGINT,
    "total_quantity" INTEGER,
    "tracking_company" TEXT,
    "tracking_number" TEXT,
    "tracking_url" TEXT,
    "shopify_created_at" TIMESTAMPTZ(6),
    "delivered_at" TIMESTAMPTZ(6),
    "in_transit_at" TIMESTAMPTZ(6),
    "estimated_delivery_at" TIMESTAMPTZ(6),
    "shopify_updated_at" TIMESTAMPTZ(6) NOT NULL,
    "deleted_at" TIMESTAMPTZ(6),
    "deletion_inferred" BOOLEAN NOT NULL DEFAULT false,
    "payload" JSONB NOT NULL,
    "synced_at" TIMESTAMPTZ(6) NOT NULL DEFAULT CURRENT_TIMESTAMP,

    CONSTRAINT "shopify_fulfillments_pkey" PRIMARY KEY ("tenant_id","id")
);

-- CreateTable
CREATE TABLE "shopify_fulfillment_line_items" (
    "tenant_id" TEXT NOT NULL,
    "id" BIGINT NOT NULL,
    "fulfillment_id" BIGINT NOT NULL,
    "order_id" BIGINT NOT NULL,
    "line_item_id" BIGINT,
    "quantity" INTEGER,
    "original_total" DECIMAL(20,4),
    "original_total_presentment" DECIMAL(20,4),
    "discounted_total" DECIMAL(20,4),
    "discounted_total_presentment" DECIMAL(20,4),

    CONSTRAINT "shopify_fulfillment_line_items_pkey" PRIMARY KEY ("tenant_id","id")
);

-- CreateIndex
CREATE INDEX "shopify_refunds_tenant_id_order_id_idx" ON "shopify_refunds"("tenant_id", "order_id");

-- CreateIndex
CREATE INDEX "shopify_refunds_tenant_id_processed_at_idx" ON "shopify_refunds"("tenant_id", "processed_at");

-- CreateIndex
CREATE INDEX "shopify_refund_line_items_tenant_id_refund_id_idx" ON "shopify_refund_line_items"("tenant_id", "refund_id");

-- CreateIndex
CREATE INDEX "shopify_refund_line_items_tenant_id_line_item_id_idx" ON "shopify_refund_line_items"("tenant_id", "line_item_id");

-- CreateIndex
CREATE INDEX "shopify_refund_order_adjustments_tenant_id_refund_id_idx" ON "shopify_refund_order_adjustments"("tenant_id", "refund_id");

-- CreateIndex
CREATE INDEX "shopify_order_transactions_tenant_id_order_id_idx" ON "shopify_order_transactions"("tenant_id", "order_id");

-- CreateIndex
CREATE INDEX "shopify_order_transactions_tenant_id_processed_at_idx" ON "shopify_order_transactions"("tenant_id", "processed_at");

-- CreateIndex
CREATE INDEX "shopify_fulfillments_tenant_id_order_id_idx" ON "shopify_fulfillments"("tenant_id", "order_id");

-- CreateIndex
CREATE INDEX "shopify_fulfillment_line_items_tenant_id_fulfillment_id_idx" ON "shopify_fulfillment_line_items"("tenant_id", "fulfillment_id");

-- AddForeignKey
ALTER TABLE "shopify_refunds" ADD CONSTRAINT "shopify_refunds_tenant_id_fkey" FOREIGN KEY ("tenant_id") REFERENCES "shopify_tenants"("id") ON DELETE CASCADE ON UPDATE CASCADE;

-- AddForeignKey
ALTER TABLE "shopify_refund_line_items" ADD CONSTRAINT "shopify_refund_line_items_tenant_id_fkey" FOREIGN KEY ("tenant_id") REFERENCES "shopify_tenants"("id") ON DELETE CASCADE ON UPDATE CASCADE;

-- AddForeignKey
ALTER TABLE "shopify_refund_line_items" ADD CONSTRAINT "shopify_refund_line_items_tenant_id_refund_id_fkey" FOREIGN KEY ("tenant_id", "refund_id") REFERENCES "shopify_refunds"("tenant_id", "id") ON DELETE CASCADE ON UPDATE CASCADE;

-- AddForeignKey
ALTER TABLE "shopify_refund_order_adjustments" ADD CONSTRAINT "shopify_refund_order_adjustments_tenant_id_fkey" FOREIGN KEY ("tenant_id") REFERENCES "shopify_tenants"("id") ON DELETE CASCADE ON UPDATE CASCADE;

-- AddForeignKey
ALTER TABLE "shopify_refund_order_adjustments" ADD CONSTRAINT "shopify_refund_order_adjustments_tenant_id_refund_id_fkey" FOREIGN KEY ("tenant_id", "refund_id") REFERENCES "shopify_refunds"("tenant_id", "id") ON DELETE CASCADE ON UPDATE CASCADE;

-- AddForeignKey
ALTER TABLE "shopify_order_transactions" ADD CONSTRAINT "shopify_order_transactions_tenant_id_fkey" FOREIGN KEY ("tenant_id") REFERENCES "shopify_tenants"("id") ON DELETE CASCADE ON UPDATE CASCADE;

-- AddForeignKey
ALTER TABLE "shopify_fulfillments" ADD CONSTRAINT "shopify_fulfillments_tenant_id_fkey" FOREIGN KEY ("tenant_id") REFERENCES "shopify_tenants"("id") ON DELETE CASCADE ON UPDATE CASCADE;

-- AddForeignKey
ALTER TABLE "shopify_fulfillment_line_items" ADD CONSTRAINT "shopify_fulfillment_line_items_tenant_id_fkey" FOREIGN KEY ("tenant_id") REFERENCES "shopify_tenants"("id") ON DELETE CASCADE ON UPDATE CASCADE;

-- AddForeignKey
ALTER TABLE "shopify_fulfillment_line_items" ADD CONSTRAINT "shopify_fulfillment_line_items_tenant_id_fulfillment_id_fkey" FOREIGN KEY ("tenant_id", "fulfillment_id") REFERENCES "shopify_fulfillments"("tenant_id", "id") ON DELETE CASCADE ON UPDATE CASCADE;
