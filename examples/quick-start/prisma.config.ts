import { defineConfig } from 'prisma/config';

// Prisma 7 reads the database URL from here. `schema` is a folder: your models in app.prisma,
// shopify-ingest's models in shopify.prisma (copied from node_modules/shopify-ingest/prisma/schema.prisma).
export default defineConfig({
  schema: 'prisma',
  datasource: { url: process.env.DATABASE_URL ?? 'postgresql://postgres@127.0.0.1:5432/postgres' },
});
