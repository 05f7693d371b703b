-- CreateIndex
CREATE INDEX "shopify_webhook_inbox_webhook_id_idx" ON "shopify_webhook_inbox"("webhook_id");
