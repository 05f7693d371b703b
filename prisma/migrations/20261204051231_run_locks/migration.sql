-- CreateTable
CREATE TABLE "shopify_run_locks" (
    "tenant_id" TEXT NOT NULL,
    "resource" TEXT NOT NULL,
    "run_id" TEXT NOT NULL,
    "acquired_at" TIMESTAMPTZ(6) NOT NULL DEFAULT CURRENT_TIMESTAMP,
    "expires_at" TIMESTAMPTZ(6) NOT NULL,

    CONSTRAINT "shopify_run_locks_pkey" PRIMARY KEY ("tenant_id","resource")
);

-- AddForeignKey
ALTER TABLE "shopify_run_locks" ADD CONSTRAINT "shopify_run_locks_tenant_id_fkey" FOREIGN KEY ("tenant_id") REFERENCES "shopify_tenants"("id") ON DELETE CASCADE ON UPDATE CASCADE;

-- Run locks used to be rows of shopify_scheduler_leases (job id "import/<resource>/<tenant id>",
-- run key "run"). They are not carried over: a lock lasts runLockTtlMs (30 s by default) unless
-- renewed, and a run of the previous version that still holds one finds it gone at its next
-- renewal and stops (lock lost) instead of running beside a run of this version.
DELETE FROM "shopify_scheduler_leases" WHERE "job_id" LIKE 'import/%' AND "run_key" = 'run';
