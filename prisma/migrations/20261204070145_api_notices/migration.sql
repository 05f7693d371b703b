-- CreateTable
CREATE TABLE "shopify_api_notices" (
    "tenant_id" TEXT NOT NULL,
    "kind" TEXT NOT NULL,
    "key" TEXT NOT NULL,
    "requested_version" TEXT NOT NULL,
    "served_version" TEXT,
    "reason" TEXT,
    "request" TEXT NOT NULL,
    "first_seen_at" TIMESTAMPTZ(6) NOT NULL,
    "last_seen_at" TIMESTAMPTZ(6) NOT NULL,
    "sightings" INTEGER NOT NULL DEFAULT 1,

    CONSTRAINT "shopify_api_notices_pkey" PRIMARY KEY ("tenant_id","kind","key")
);

-- AddForeignKey
ALTER TABLE "shopify_api_notices" ADD CONSTRAINT "shopify_api_notices_tenant_id_fkey" FOREIGN KEY ("tenant_id") REFERENCES "shopify_tenants"("id") ON DELETE CASCADE ON UPDATE CASCADE;
