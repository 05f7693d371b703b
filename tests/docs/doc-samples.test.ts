/**
 * Every ```ts block of the user guides type-checks against the published types (see
 * doc-samples.ts for how a fragment gets its context). Run `npm run build` first; `npm test` does.
 */
import { describe, expect, it } from 'vitest';
import { DOCS, checkSamples, samplesOf } from './doc-samples.js';

describe('the code samples of the user guides type-check against the published types', () => {
  const samples = DOCS.flatMap(samplesOf);

  it('finds the samples', () => {
    expect(samples.length).toBeGreaterThan(30);
  });

  it('a sample that drifted from the API fails the check, at its line', () => {
    const drifted = [
      { doc: 'README.md', line: 10, code: 'const s = createIngestionService(prisma, { schedular: {} });' },
      { doc: 'docs/webhooks.md', line: 20, code: "import { shopifyWebhook } from 'shopify-ingest/express';" },
      { doc: 'README.md', line: 30, code: "await prisma.shopifyOrder.findMany({ where: { tenantId: 't' }, include: { lines: true } });" },
    ];
    const messages = checkSamples(drifted);
    expect(messages).toHaveLength(3);
    expect(messages[0]).toMatch(/^README\.md:10 .*'schedular'/);
    expect(messages[1]).toMatch(/^docs\/webhooks\.md:20 .*shopifyWebhook/);
    expect(messages[2]).toMatch(/^README\.md:30 .*'lines'/);
  }, 120_000);

  it('every sample compiles as a user would paste it', () => {
    expect(checkSamples(samples)).toEqual([]);
  }, 120_000);
});
