-- AlterTable
-- Tenants stored before this migration keep NULL, "activated at an unknown time": an app/uninstalled
-- delivery deactivates them as before. Tenants added or activated from now on record the time.
ALTER TABLE "shopify_tenants" ADD COLUMN     "activated_at" TIMESTAMPTZ(6);
ALTER TABLE "shopify_tenants" ALTER COLUMN "activated_at" SET DEFAULT CURRENT_TIMESTAMP;
