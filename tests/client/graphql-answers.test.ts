/**
 * GraphQL answers the client must not take at face value: a 200 without data, bulk-operation answers
 * without the fields asked for, THROTTLED delivered as HTTP 429, INTERNAL_SERVER_ERROR inside a 200.
 */
import nock from 'nock';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { createShopifyClient } from '../../src/client/index.js';
import { BulkOperations } from '../../src/client/bulk-operations.js';
import { API, ORIGIN, SHOP, TOKEN, virtualTime } from './helpers.js';

beforeAll(() => nock.disableNetConnect());
afterEach(() => nock.cleanAll());
afterAll(() => nock.enableNetConnect());

/** A client in virtual time, retrying `retries` times (default: none). */
function setup(retries = 0) {
  const time = virtualTime();
  const client = createShopifyClient({ shopDomain: SHOP, accessToken: TOKEN, now: time.now, sleep: time.sleep, retryOptions: { retries } });
  return { client, time };
}

describe('GraphQL answers without the expected shape', () => {
  it('a 200 whose body has neither data nor errors is an error, not an undefined result', async () => {
    const { client } = setup();
    nock(ORIGIN).post(`${API}/graphql.json`).reply(200, { extensions: { cost: { requestedQueryCost: 1, actualQueryCost: 1 } } });
    await expect(client.graphql('{ shop { name } }')).rejects.toMatchObject({ code: 'SHOPIFY_BAD_RESPONSE', retryable: true });
    await client.close();
  });

  it('data: null without errors is retried like a malformed answer, then served', async () => {
    const { client, time } = setup(3);
    nock(ORIGIN).post(`${API}/graphql.json`).reply(200, { data: null }).post(`${API}/graphql.json`).reply(200, { data: { shop: { name: 'x' } } });
    await expect(client.graphql('{ shop { name } }')).resolves.toEqual({ shop: { name: 'x' } });
    expect(time.sleeps).toEqual([1000]);
    await client.close();
  });

  it('bulkOperation(id:) answered without the field is an error, not "unknown to Shopify"', async () => {
    const { client } = setup();
    nock(ORIGIN).post(`${API}/graphql.json`).reply(200, { data: {} });
    await expect(new BulkOperations(client).get('gid://shopify/BulkOperation/1')).rejects.toMatchObject({ code: 'SHOPIFY_BAD_RESPONSE' });
    await client.close();
  });

  it('findRunning does not report "nothing running" when the answer lacks bulkOperations (a second operation would be started)', async () => {
    const { client } = setup();
    nock(ORIGIN).post(`${API}/graphql.json`).reply(200, {});
    const bulk = new BulkOperations(client);
    await expect(bulk.findRunning('{ orders { edges { node { id } } } }'), 'a shapeless answer was taken for "no running operation"').rejects.toMatchObject({ code: 'SHOPIFY_BAD_RESPONSE' });
    await client.close();
  });

  it('a refused bulk query whose message mentions a limit but whose code is INVALID fails at once, not after hours of waiting', async () => {
    const { client, time } = setup();
    const refused = (code: string | null, message: string) => ({ data: { bulkOperationRunQuery: { bulkOperation: null, userErrors: [{ field: ['query'], message, code }] } } });
    nock(ORIGIN).post(`${API}/graphql.json`).reply(200, refused('INVALID', 'Bulk queries cannot exceed the limit of 5 connections.'));
    const bulk = new BulkOperations(client, { sleep: time.sleep });
    await expect(bulk.start('{ a: orders { edges { node { id } } } }')).rejects.toMatchObject({ code: 'BULK_OPERATION_INVALID', retryable: false });
    expect(time.sleeps, 'an invalid query was waited on as if the shop were busy').toEqual([]);
    // Without a code (older versions), the message is all there is: "limit" still reads as busy.
    nock(ORIGIN).post(`${API}/graphql.json`).reply(200, refused(null, 'A bulk query operation for this app and shop is already in progress')).post(`${API}/graphql.json`).reply(200, { data: { bulkOperationRunQuery: { bulkOperation: { id: 'gid://shopify/BulkOperation/9', status: 'CREATED', errorCode: null, objectCount: '0', rootObjectCount: '0', fileSize: null, url: null, partialDataUrl: null, query: 'q', createdAt: null, completedAt: null }, userErrors: [] } } });
    await expect(bulk.start('{ orders { edges { node { id } } } }')).resolves.toMatchObject({ id: 'gid://shopify/BulkOperation/9' });
    expect(time.sleeps).toEqual([1000]);
    await client.close();
  });

  it('findRunning with data but no bulkOperations.nodes is an error too', async () => {
    const { client } = setup();
    nock(ORIGIN).post(`${API}/graphql.json`).reply(200, { data: { running: {}, created: { nodes: [] } } });
    await expect(new BulkOperations(client).findRunning('{ orders { edges { node { id } } } }')).rejects.toMatchObject({ code: 'SHOPIFY_BAD_RESPONSE', retryable: true });
    await client.close();
  });
});

describe('THROTTLED delivered as HTTP 429', () => {
  it('waits (requested - available) / restoreRate from the body, not a default 1 s', async () => {
    const { client, time } = setup();
    // 429 with the usual THROTTLED body and no Retry-After: 1000 points needed, 0 available, 100/s -> 10 s.
    nock(ORIGIN)
      .post(`${API}/graphql.json`).reply(429, {
        errors: [{ message: 'Throttled', extensions: { code: 'THROTTLED' } }],
        extensions: { cost: { requestedQueryCost: 1000, actualQueryCost: null, throttleStatus: { maximumAvailable: 2000, currentlyAvailable: 0, restoreRate: 100 } } },
      })
      .post(`${API}/graphql.json`).reply(200, { data: { ok: 1 } });
    await client.graphql('{ ok }');
    expect(time.sleeps, 'sleeps before the retry').toEqual([10_000]);
    await client.close();
  });

  it('a Retry-After longer than the bucket\'s wait is honoured', async () => {
    const { client, time } = setup();
    nock(ORIGIN)
      .post(`${API}/graphql.json`).reply(429, {
        errors: [{ message: 'Throttled', extensions: { code: 'THROTTLED' } }],
        extensions: { cost: { requestedQueryCost: 100, actualQueryCost: null, throttleStatus: { maximumAvailable: 2000, currentlyAvailable: 50, restoreRate: 100 } } },
      }, { 'Retry-After': '2.0' })
      .post(`${API}/graphql.json`).reply(200, { data: { ok: 1 } });
    await client.graphql('{ ok }');
    expect(time.sleeps).toEqual([2000]);
    await client.close();
  });

  it('a 429 without a usable body waits Retry-After, as before', async () => {
    const { client, time } = setup();
    nock(ORIGIN).post(`${API}/graphql.json`).reply(429, 'Too Many Requests', { 'Retry-After': '3' }).post(`${API}/graphql.json`).reply(200, { data: { ok: 1 } });
    await client.graphql('{ ok }');
    expect(time.sleeps).toEqual([3000]);
    await client.close();
  });
});

describe('Shopify\'s transient GraphQL errors in a 200', () => {
  it('INTERNAL_SERVER_ERROR (sent instead of a 500) on a query is retried like a 5xx', async () => {
    const { client } = setup(2);
    nock(ORIGIN)
      .post(`${API}/graphql.json`).reply(200, { errors: [{ message: 'Internal error. Looks like something went wrong on our end.\nRequest ID: abc (include this in support requests).', extensions: { code: 'INTERNAL_SERVER_ERROR', requestId: 'abc' } }] })
      .post(`${API}/graphql.json`).reply(200, { data: { shop: { name: 'x' } } });
    const outcome = await client.graphql('{ shop { name } }').then((d) => d, (e: { code: string; retryable: boolean }) => ({ failed: e.code, retryable: e.retryable }));
    expect(outcome).toEqual({ shop: { name: 'x' } });
    await client.close();
  });

  it('other GraphQL errors stay permanent: not retried, not retryable', async () => {
    const { client, time } = setup(2);
    const scope = nock(ORIGIN).post(`${API}/graphql.json`).reply(200, { errors: [{ message: "Field 'nme' doesn't exist on type 'Shop'", extensions: { code: 'undefinedField' } }] });
    await expect(client.graphql('{ shop { nme } }')).rejects.toMatchObject({ code: 'GRAPHQL_ERROR', retryable: false });
    expect(scope.isDone()).toBe(true);
    expect(time.sleeps).toEqual([]);
    await client.close();
  });

  it('INTERNAL_SERVER_ERROR on a mutation is thrown after one attempt, retryable (Shopify may have applied it)', async () => {
    const { client } = setup(2);
    let posts = 0;
    nock(ORIGIN).post(`${API}/graphql.json`).times(3).reply(() => {
      posts++;
      return [200, { errors: [{ message: 'Internal error', extensions: { code: 'INTERNAL_SERVER_ERROR' } }] }];
    });
    await expect(client.graphql('mutation { webhookSubscriptionDelete(id: "gid://shopify/WebhookSubscription/1") { deletedWebhookSubscriptionId } }'))
      .rejects.toMatchObject({ code: 'GRAPHQL_ERROR', retryable: true });
    expect(posts).toBe(1);
    await client.close();
  });
});

describe('pacing from what Shopify reported', () => {
  const status = (available: number) => ({ maximumAvailable: 1000, currentlyAvailable: available, restoreRate: 50 });

  it('a THROTTLED whose reported bucket says the query fitted waits the whole cost back, not 0 ms', async () => {
    const { client, time } = setup();
    nock(ORIGIN)
      .post(`${API}/graphql.json`).reply(200, { errors: [{ message: 'Throttled', extensions: { code: 'THROTTLED' } }], extensions: { cost: { requestedQueryCost: 100, actualQueryCost: null, throttleStatus: status(500) } } })
      .post(`${API}/graphql.json`).reply(200, { data: { ok: 1 } });
    await client.graphql('{ ok }');
    expect(time.sleeps).toEqual([2000]);
    await client.close();
  });

  it('remembers a query\'s cost per page size: the same text with another `first` is not priced as the last one', async () => {
    const { client, time } = setup();
    const query = 'query($first: Int!, $after: String) { products(first: $first, after: $after) { nodes { id } } }';
    const answer = (requested: number, available: number) => ({ data: { products: { nodes: [] } }, extensions: { cost: { requestedQueryCost: requested, actualQueryCost: requested, throttleStatus: status(available) } } });
    nock(ORIGIN)
      .post(`${API}/graphql.json`, (b) => b.variables.first === 10).reply(200, answer(22, 978))
      .post(`${API}/graphql.json`, (b) => b.variables.first === 250).reply(200, answer(502, 476))
      .post(`${API}/graphql.json`, (b) => b.variables.first === 10).reply(200, answer(22, 454))
      .post(`${API}/graphql.json`, (b) => b.variables.first === 250).reply(200, answer(502, 0));
    await client.graphql(query, { first: 10, after: null });
    await client.graphql(query, { first: 250, after: 'c1' });
    await client.graphql(query, { first: 10, after: 'c2' });
    expect(time.sleeps).toEqual([]);
    // 502 points wanted (not the 22 of the last answer to this text), 454 there, 50/s: wait 0.96 s first.
    await client.graphql(query, { first: 250, after: 'c3' });
    expect(time.sleeps).toEqual([960]);
    await client.close();
  });
});
