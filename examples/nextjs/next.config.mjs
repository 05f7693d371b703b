/** @type {import('next').NextConfig} */
const nextConfig = {
  // The SDK talks to PostgreSQL through Prisma's driver adapters and loads the embedded database
  // (WASM) on demand: let Node require it at run time instead of bundling it into the route chunks.
  serverExternalPackages: ['shopify-ingest', '@prisma/client', '@prisma/adapter-pg', 'pg', '@electric-sql/pglite', 'pglite-prisma-adapter'],
};

export default nextConfig;
