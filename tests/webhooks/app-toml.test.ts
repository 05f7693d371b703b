/**
 * `shopify-ingest webhooks toml`: the [webhooks] block of shopify.app.toml parses as TOML, names
 * only topics Shopify's own 2026-10 schema knows, and subscribes exactly what the SDK handles.
 */
import { parse } from 'smol-toml';
import { GraphQLEnumType } from 'graphql';
import { describe, expect, it } from 'vitest';
import { adminSchema } from '../../src/testing/admin-schema.js';
import { subscribedTopics, webhooksToml } from '../../src/webhooks/app-toml.js';
import { COMPLIANCE_TOPICS, WEBHOOK_TOPICS } from '../../src/webhooks/topics.js';
import { cli } from '../cli/helpers.js';

const URI = 'https://app.example.com/api/webhooks/shopify';
interface Block { webhooks: { api_version: string; subscriptions: Array<{ topics?: string[]; compliance_topics?: string[]; uri: string }> } }

describe('webhooksToml', () => {
  it('is valid TOML: one subscription for the resource and lifecycle topics, one for the compliance topics', () => {
    const block = parse(webhooksToml({ uri: URI })) as unknown as Block;
    expect(block.webhooks.api_version).toBe('2026-10');
    expect(block.webhooks.subscriptions).toHaveLength(2);
    const [topics, compliance] = block.webhooks.subscriptions;
    expect(topics!.uri).toBe(URI);
    expect(compliance).toEqual({ compliance_topics: [...COMPLIANCE_TOPICS], uri: URI });
    // Everything the SDK handles, nothing else.
    expect(new Set([...topics!.topics!, ...compliance!.compliance_topics!])).toEqual(new Set(WEBHOOK_TOPICS));
  });

  it("names only topics of Shopify's WebhookSubscriptionTopic enum (2026-10) in topics, the compliance ones apart", () => {
    const enumType = adminSchema().getType('WebhookSubscriptionTopic');
    expect(enumType).toBeInstanceOf(GraphQLEnumType);
    const known = new Set((enumType as GraphQLEnumType).getValues().map((v) => v.name));
    expect(known.size).toBeGreaterThan(100);
    const enumName = (topic: string) => topic.toUpperCase().replace(/\//g, '_');
    for (const topic of subscribedTopics()) expect(known.has(enumName(topic)), topic).toBe(true);
    // The compliance topics are not subscription topics at all: only compliance_topics can name them.
    for (const topic of COMPLIANCE_TOPICS) expect(known.has(enumName(topic)), topic).toBe(false);
  });

  it('limits the topics to the resources asked for, and keeps the lifecycle topics', () => {
    const block = parse(webhooksToml({ uri: URI, resources: ['orders'], apiVersion: '2026-07' })) as unknown as Block;
    const topics = block.webhooks.subscriptions[0]!.topics!;
    expect(block.webhooks.api_version).toBe('2026-07');
    expect(topics).toContain('orders/edited');
    expect(topics).toEqual(expect.arrayContaining(['app/uninstalled', 'bulk_operations/finish']));
    expect(topics.some((t) => t.startsWith('customers/') || t.startsWith('products/'))).toBe(false);
  });

  it('refuses a relative or plain-http uri and a malformed api version, with a ConfigError', () => {
    for (const uri of ['/webhooks', 'http://app.example.com/hooks', 'https://a b']) {
      expect(() => webhooksToml({ uri }), uri).toThrow(expect.objectContaining({ code: 'CONFIG_INVALID' }));
    }
    expect(() => webhooksToml({ uri: URI, apiVersion: '2026-05' })).toThrow(/api version/);
    expect(() => webhooksToml({ uri: 'pubsub://my-project:shopify-topic' })).not.toThrow();
  });
});

describe('npx shopify-ingest webhooks toml', () => {
  it('prints the block (api version from SHOPIFY_API_VERSION), needs no database, and says what is missing', async () => {
    const run = await cli(['webhooks', 'toml', '--uri', URI, '--resources', 'customers,orders'], { SHOPIFY_API_VERSION: '2026-04' });
    expect(run.code).toBe(0);
    const block = parse(run.stdout) as unknown as Block;
    expect(block.webhooks.api_version).toBe('2026-04');
    expect(block.webhooks.subscriptions[0]!.topics).toContain('customers/update');
    expect(block.webhooks.subscriptions[0]!.topics).not.toContain('products/update');
    const missing = await cli(['webhooks', 'toml'], {});
    expect(missing.code).not.toBe(0);
    expect(missing.stderr).toMatch(/--uri/);
    const unknown = await cli(['webhooks', 'toml', '--uri', URI, '--resources', 'orderz'], {});
    expect(unknown.code).not.toBe(0);
    expect(unknown.stderr).toMatch(/orderz/);
  });
});
