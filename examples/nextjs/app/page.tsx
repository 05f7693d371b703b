export default function Home() {
  return (
    <main>
      <h1>shopify-ingest on Next.js</h1>
      <ul>
        <li><code>POST /api/webhooks/shopify</code>: Shopify webhooks (HMAC-verified, stored durably)</li>
        <li><code>POST /api/shopify/sync/:tenantId</code>: run an import (x-api-key or session token)</li>
        <li><code>GET /api/shopify/status</code>: sync status and health (x-api-key or session token)</li>
      </ul>
    </main>
  );
}
