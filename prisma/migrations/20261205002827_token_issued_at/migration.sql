-- AlterTable
ALTER TABLE "shopify_tenants" ADD COLUMN     "access_token_issued_at" TIMESTAMPTZ(6);
