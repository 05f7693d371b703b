/**
 * A request a second attempt could apply twice (POST, PATCH, a GraphQL mutation) is not re-sent after
 * a failure that leaves unknown whether Shopify applied it; bulk operations look for the operation
 * they may have started before starting another. Idempotent requests are still retried.
 */
import nock from 'nock';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { createShopifyClient } from '../../src/client/index.js';
import { BulkOperations } from '../../src/client/bulk-operations.js';
import { API, ORIGIN, SHOP, TOKEN, virtualTime } from './helpers.js';

beforeAll(() => nock.disableNetConnect());
afterEach(() => nock.cleanAll());
afterAll(() => nock.enableNetConnect());

const ORDERS = '{ orders { edges { node { id } } } }';
const op = (id: number) => ({
  id: `gid://shopify/BulkOperation/${id}`, status: 'CREATED', errorCode: null, objectCount: '0', rootObjectCount: '0',
  fileSize: null, url: null, partialDataUrl: null, query: ORDERS, createdAt: null, completedAt: null,
});
/** bulkOperationRunQuery's answer: operation `id` started. */
const started = (id: number) => ({ data: { bulkOperationRunQuery: { bulkOperation: op(id), userErrors: [] } } });
const isRun = (b: { query: string }) => /bulkOperationRunQuery/.test(b.query);
const isLookup = (b: { query: string }) => /bulkOperations\(/.test(b.query);

/** A client in virtual time; `retries` overrides the default retry count. */
function setup(retries?: number) {
  const time = virtualTime();
  const client = createShopifyClient({ shopDomain: SHOP, accessToken: TOKEN, now: time.now, sleep: time.sleep, ...(retries === undefined ? {} : { retryOptions: { retries } }) });
  return { time, client, bulk: new BulkOperations(client, { sleep: time.sleep }) };
}

describe('non-idempotent mutations are not re-sent after an ambiguous failure', () => {
  it('bulkOperationRunQuery whose reply was cut off (malformed body) is not sent a second time', async () => {
    const { client, bulk } = setup();
    let runs = 0;
    nock(ORIGIN)
      .post(`${API}/graphql.json`, isRun).times(5)
      .reply(200, () => {
        runs++;
        // Shopify created operation #runs; the first answer is cut off mid-body.
        const body = JSON.stringify(started(runs));
        return runs === 1 ? body.slice(0, 40) : body;
      });
    const outcome = await bulk.start(ORDERS).catch((e: unknown) => e);
    // Shopify ran the mutation twice: two bulk operations exist, the first one orphaned.
    expect(runs, `bulkOperationRunQuery was sent ${runs} times (outcome: ${JSON.stringify((outcome as { id?: string }).id ?? String(outcome))})`).toBe(1);
    await client.close();
  });

  it('bulkOperationRunQuery answered 503 by a proxy after Shopify ran it is not sent a second time', async () => {
    const { client } = setup();
    let runs = 0;
    nock(ORIGIN)
      .post(`${API}/graphql.json`).times(5)
      .reply(() => {
        runs++;
        return runs === 1 ? [503, 'upstream timeout'] : [200, started(runs)];
      });
    await client.graphql('mutation { bulkOperationRunQuery(query: "{ orders { edges { node { id } } } }") { bulkOperation { id } userErrors { message } } }').catch(() => undefined);
    expect(runs, `the mutation was POSTed ${runs} times`).toBe(1);
    await client.close();
  });

  it('BulkOperations.start attaches to the operation its cut-off mutation started', async () => {
    const { client, bulk } = setup();
    let runs = 0;
    nock(ORIGIN)
      .post(`${API}/graphql.json`, isRun).times(5)
      .reply(200, () => {
        runs++;
        return JSON.stringify(started(runs)).slice(0, 40);
      })
      .post(`${API}/graphql.json`, isLookup)
      .reply(200, { data: { running: { nodes: [{ ...op(77), query: '{ products { edges { node { id } } } }', status: 'RUNNING' }] }, created: { nodes: [op(1)] } } });
    const attached = await bulk.start(ORDERS);
    expect(runs).toBe(1);
    expect(attached).toMatchObject({ id: 'gid://shopify/BulkOperation/1', status: 'CREATED' });
    await client.close();
  });

  it('BulkOperations.start sends the mutation again when no operation of its query is running', async () => {
    const { client, bulk } = setup();
    let runs = 0;
    nock(ORIGIN)
      .post(`${API}/graphql.json`, isRun).times(5)
      .reply(() => (++runs === 1 ? [502, 'bad gateway'] : [200, started(runs)]))
      .post(`${API}/graphql.json`, isLookup)
      .reply(200, { data: { running: { nodes: [] }, created: { nodes: [] } } });
    const second = await bulk.start(ORDERS);
    expect(runs).toBe(2);
    expect(second.id).toBe('gid://shopify/BulkOperation/2');
    await client.close();
  });

  it('BulkOperations.start gives up with the mutation\'s error when the lookup fails too', async () => {
    const { client, bulk } = setup(0);
    let runs = 0;
    nock(ORIGIN)
      .post(`${API}/graphql.json`, isRun).times(5).reply(() => { runs++; return [504, 'gateway timeout']; })
      .post(`${API}/graphql.json`, isLookup).reply(503, 'unavailable');
    await expect(bulk.start(ORDERS)).rejects.toMatchObject({ code: 'SHOPIFY_HTTP_504' });
    expect(runs).toBe(1);
    await client.close();
  });

  it('a GraphQL query answered 503 is retried, also when a string in it says "mutation"', async () => {
    const { time, client } = setup();
    nock(ORIGIN).post(`${API}/graphql.json`).reply(503, 'x').post(`${API}/graphql.json`).reply(200, { data: { orders: { nodes: [] } } });
    await expect(client.graphql('# a mutation of nothing\nquery { orders(first: 1, query: "tag:mutation") { nodes { id } } }')).resolves.toEqual({ orders: { nodes: [] } });
    expect(time.sleeps).toEqual([1000]);
    await client.close();
  });

  it('a REST PUT (idempotent) answered 502 is retried', async () => {
    const { client } = setup();
    nock(ORIGIN).put(`${API}/webhooks/1.json`).reply(502, 'x').put(`${API}/webhooks/1.json`).reply(200, { webhook: { id: 1 } });
    const res = await client.request('PUT', '/webhooks/1.json', { body: { webhook: { id: 1, address: 'https://example.com/h' } } });
    expect(res.status).toBe(200);
    await client.close();
  });

  it('a REST POST whose connection was refused (nothing sent) is retried', async () => {
    const { client } = setup();
    nock(ORIGIN).post(`${API}/webhooks.json`).replyWithError({ code: 'ECONNREFUSED', message: 'connect ECONNREFUSED' })
      .post(`${API}/webhooks.json`).reply(201, { webhook: { id: 5 } });
    const res = await client.request('POST', '/webhooks.json', { body: { webhook: { topic: 'orders/create', address: 'https://example.com/h' } } });
    expect(res.status).toBe(201);
    await client.close();
  });

  it('a REST POST answered 502 after Shopify processed it is not sent a second time', async () => {
    const { client } = setup();
    let posts = 0;
    nock(ORIGIN).post(`${API}/webhooks.json`).times(5).reply(() => (++posts === 1 ? [502, 'bad gateway'] : [201, { webhook: { id: posts } }]));
    await client.request('POST', '/webhooks.json', { body: { webhook: { topic: 'orders/create', address: 'https://example.com/h' } } }).catch(() => undefined);
    expect(posts, `the POST was sent ${posts} times`).toBe(1);
    await client.close();
  });
});
