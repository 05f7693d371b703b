-- AlterTable
ALTER TABLE "shopify_tenants" ADD COLUMN     "access_token_expires_at" TIMESTAMPTZ(6),
ADD COLUMN     "auth_error" TEXT,
ADD COLUMN     "auth_status" TEXT NOT NULL DEFAULT 'ok',
ADD COLUMN     "client_id" TEXT,
ADD COLUMN     "client_secret_enc" TEXT,
ADD COLUMN     "refresh_token_enc" TEXT,
ADD COLUMN     "refresh_token_expires_at" TIMESTAMPTZ(6),
ADD COLUMN     "renewal_holder" TEXT,
ADD COLUMN     "renewal_until" TIMESTAMPTZ(6),
ADD COLUMN     "token_kind" TEXT NOT NULL DEFAULT 'static',
ADD COLUMN     "token_version" INTEGER NOT NULL DEFAULT 0,
ALTER COLUMN "access_token_enc" DROP NOT NULL;
