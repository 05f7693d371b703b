import { createNextWebhookHandler } from 'shopify-ingest/next';
import { webhookEndpoint } from '../../../../lib/ingestion';

// The HMAC check and the database need Node, and every delivery must reach the handler.
export const runtime = 'nodejs';
export const dynamic = 'force-dynamic';

export const { POST } = createNextWebhookHandler(webhookEndpoint);
