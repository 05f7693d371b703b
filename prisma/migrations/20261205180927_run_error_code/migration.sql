-- AlterTable
ALTER TABLE "shopify_sync_runs" ADD COLUMN     "error_code" TEXT;
