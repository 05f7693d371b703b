import { afterEach, describe, expect, it, vi } from 'vitest';
import { ConfigError, TenantError } from '../../src/errors.js';
import { ShopifyTransformer, TransformError, addMoney, parseGid, toMoney } from '../../src/transform/index.js';
import { restOrdersPage, ring, TEST_KEY, transformer } from './helpers.js';

const T = 'tenant-values';
const order = (extra: Record<string, unknown> = {}) => ({ id: 1, updated_at: '2024-03-10T01:59:59.999+14:00', ...extra });

describe('money', () => {
  it('keeps exact decimal strings and normalises to two or more decimals', () => {
    expect(toMoney('0.10', 'x')).toBe('0.10');
    expect(toMoney('199.0', 'x')).toBe('199.00');
    expect(toMoney('5', 'x')).toBe('5.00');
    expect(toMoney('-3.5', 'x')).toBe('-3.50');
    expect(toMoney('12345678901234567.1234', 'x')).toBe('12345678901234567.1234');
    expect(toMoney(195.66, 'x')).toBe('195.66');
    expect(toMoney(0.1, 'x')).toBe('0.10');
    expect(toMoney({ shopMoney: { amount: '7.1' } }, 'x')).toBe('7.10');
    expect(toMoney({ shop_money: { amount: '7.10' } }, 'x')).toBe('7.10');
    expect(toMoney({ amount: '0.3', currencyCode: 'EUR' }, 'x')).toBe('0.30');
    expect(toMoney(null, 'x')).toBeNull();
    expect(toMoney('', 'x')).toBeNull();
    expect(() => toMoney('1e3', 'x')).toThrow();
    expect(() => toMoney(1e21, 'x')).toThrow();
    expect(() => toMoney('12,50', 'x')).toThrow();
  });

  it('adds exactly where floats would not (0.1 + 0.2)', () => {
    expect(0.1 + 0.2).not.toBe(0.3);
    expect(addMoney('0.10', '0.20')).toBe('0.30');
    expect(addMoney('0.1', '0.005')).toBe('0.105');
    expect(addMoney('-1.00', '0.25')).toBe('-0.75');
    expect(addMoney('9007199254740993.01', '0.99')).toBe('9007199254740994.00');
  });

  it('sums refund transactions exactly, and refund line subtotals when a refund has no transactions', () => {
    const { orders, events } = transformer.transformOrder(order({
      financial_status: 'refunded',
      refunds: [
        { id: 10, processed_at: '2024-01-02T00:00:00Z', transactions: [
          { kind: 'refund', status: 'success', amount: '0.10' },
          { kind: 'refund', status: 'success', amount: '0.20' },
          { kind: 'refund', status: 'failure', amount: '5.00' },
        ] },
        { id: 11, created_at: '2024-01-03T00:00:00Z', transactions: [], refund_line_items: [{ subtotal: 195.66, subtotal_set: { shop_money: { amount: '195.66' } } }, { subtotal: 0.01 }] },
      ],
    }), T);
    expect(events.filter((e) => e.type === 'refunded').map((e) => [e.sourceId, e.amount, e.occurredAt.toISOString()])).toEqual([
      [10n, '0.30', '2024-01-02T00:00:00.000Z'],
      [11n, '195.67', '2024-01-03T00:00:00.000Z'],
    ]);
    expect(orders[0].totalRefunded).toBe('195.97');
  });

  it('a record nested 10,000 levels deep is a TransformError with a clear reason, not a stack overflow', () => {
    let nested: unknown = 'x';
    for (let i = 0; i < 10_000; i++) nested = [nested];
    let error: unknown;
    try { transformer.transformOrder(order({ note_attributes: nested }), T); } catch (e) { error = e; }
    expect(error).toBeInstanceOf(TransformError);
    expect((error as TransformError).reason).toBe('the record is nested deeper than 64 levels');
  });

  it('a malformed amount is a TransformError naming the field and the record', () => {
    let error: unknown;
    try { transformer.transformOrder(order({ total_price: 'free' }), T); } catch (e) { error = e; }
    expect(error).toBeInstanceOf(TransformError);
    expect((error as TransformError).shopifyId).toBe(1n);
    expect((error as TransformError).reason).toMatch(/total_price is not a decimal amount/);
  });
});

describe('times', () => {
  it('parses offsets into UTC instants (including across a date line) and tolerates null', () => {
    const { orders, events } = transformer.transformOrder(order({ created_at: '2008-01-10T11:00:00-05:00', closed_at: null, cancelled_at: '2024-03-10T00:00:00+14:00', fulfillments: [{ id: 5, created_at: '2024-03-09T10:00:00.123Z', status: 'success' }] }), T);
    expect(orders[0].shopifyUpdatedAt.toISOString()).toBe('2024-03-09T11:59:59.999Z');
    expect(orders[0].shopifyCreatedAt!.toISOString()).toBe('2008-01-10T16:00:00.000Z');
    expect(orders[0].closedAt).toBeNull();
    expect(orders[0].cancelledAt!.toISOString()).toBe('2024-03-09T10:00:00.000Z');
    expect(events.map((e) => [e.type, e.sourceId, e.occurredAt.toISOString()])).toEqual([
      ['created', 1n, '2008-01-10T16:00:00.000Z'],
      ['fulfilled', 5n, '2024-03-09T10:00:00.123Z'],
      ['cancelled', 1n, '2024-03-09T10:00:00.000Z'],
    ]);
  });

  it('rejects a record without updated_at or with an unparsable time', () => {
    expect(() => transformer.transformProduct({ id: 7 }, T)).toThrow(/updated_at is missing/);
    expect(() => transformer.transformProduct({ id: 7, updated_at: 'yesterday' }, T)).toThrow(TransformError);
    expect(() => transformer.transformProduct({ updated_at: '2024-01-01T00:00:00Z' }, T)).toThrow(/no id/);
    expect(() => transformer.transformProduct('nope', T)).toThrow(/not a JSON object/);
  });

  it('a minimal record with only id and updated_at transforms (missing fields are null)', () => {
    const { orders, lineItems, events } = transformer.transformOrder(order(), T);
    expect(orders[0]).toMatchObject({ emailEnc: null, emailHash: null, totalPrice: null, totalRefunded: null, lineItemCount: null, customerId: null });
    expect(lineItems).toEqual([]);
    expect(events).toEqual([]);
  });
});

describe('batches', () => {
  it('report failed records by id and reason, and keep the others', async () => {
    const [good] = await restOrdersPage();
    const seen: unknown[] = [];
    const result = transformer.transformOrdersBatch([good, { id: 99 }, { admin_graphql_api_id: 'gid://shopify/Order/98', updated_at: '2024-01-01T00:00:00Z', total_tax: [] }, 'junk'], T, { onError: (f) => seen.push(f.shopifyId) });
    expect(result.orders.map((o) => o.id)).toEqual([450789469n]);
    expect(result.lineItems).toHaveLength(3);
    expect(result.failures.map((f) => [f.shopifyId, f.reason])).toEqual([
      [99n, 'updated_at is missing (needed to order versions)'],
      [98n, 'total_tax is not a money value'],
      [null, 'record is not a JSON object'],
    ]);
    expect(seen).toEqual([99n, 98n, null]);
    expect(() => transformer.transformOrdersBatch([{ id: 99 }], T, { strict: true })).toThrow(TransformError);
  });

  it('customers and products batches', () => {
    const c = transformer.transformCustomersBatch([{ id: 1, updated_at: '2024-01-01T00:00:00Z', email: 'A@b.c' }, { id: 2 }], T);
    expect(c.customers.map((r) => r.emailHash)).toEqual([ring.blindIndex('a@b.c')]);
    expect(c.failures.map((f) => f.shopifyId)).toEqual([2n]);
    const p = transformer.transformProductsBatch([{ id: 1, updated_at: '2024-01-01T00:00:00Z', variants: [{ id: 2, price: '1' }, { id: 3 }] }], T);
    expect(p.variants.map((v) => [v.id, v.productId, v.price, v.shopifyUpdatedAt.toISOString()])).toEqual([[2n, 1n, '1.00', '2024-01-01T00:00:00.000Z'], [3n, 1n, null, '2024-01-01T00:00:00.000Z']]);
  });

  it('need a tenant id', () => {
    expect(() => transformer.transformOrdersBatch([], '')).toThrow(TenantError);
    expect(() => transformer.transformCustomer({ id: 1, updated_at: '2024-01-01T00:00:00Z' }, undefined as unknown as string)).toThrow(TenantError);
  });
});

describe('static methods (seed API) use ENCRYPTION_KEY from the environment', () => {
  afterEach(() => { vi.unstubAllEnvs(); });

  it('encrypt with the environment key, and fail clearly without one', async () => {
    vi.stubEnv('ENCRYPTION_KEY', TEST_KEY);
    vi.stubEnv('ENCRYPTION_PREVIOUS_KEYS', '');
    vi.stubEnv('BLIND_INDEX_KEY', '');
    const [source] = await restOrdersPage();
    const { orders, lineItems, events } = ShopifyTransformer.transformOrdersBatch([source], T);
    expect(orders).toHaveLength(1);
    expect(lineItems).toHaveLength(3);
    expect(events).toHaveLength(3);
    expect(ring.decrypt(orders[0].emailEnc!, T)).toBe('bob.norman@mail.example.com');
    expect(ShopifyTransformer.fromEnv()).toBe(ShopifyTransformer.fromEnv());
    const customer = ShopifyTransformer.transformCustomer(source.customer, T);
    expect(ring.decrypt(customer.emailEnc!, T)).toBe('bob.norman@mail.example.com');

    vi.stubEnv('ENCRYPTION_KEY', '');
    expect(() => ShopifyTransformer.transformCustomer(source.customer, T)).toThrow(ConfigError);
    vi.stubEnv('ENCRYPTION_KEY', 'short');
    expect(() => ShopifyTransformer.transformOrdersBatch([source], T)).toThrow(/ENCRYPTION_KEY must be a 32-byte key/);
  });
});

describe('payload sealing', () => {
  it('rotatePayload re-seals every _pii under the newest key and keeps the content', async () => {
    const { createKeyRing } = await import('../../src/crypto/index.js');
    const { rotatePayload } = await import('../../src/transform/index.js');
    const [source] = await restOrdersPage();
    const { orders } = transformer.transformOrder(source, T);
    const next = createKeyRing({ key: 'c3'.repeat(32), previousKeys: [TEST_KEY], blindIndexKey: TEST_KEY });
    const rotated = rotatePayload(orders[0].payload, T, next);
    expect(rotated).not.toBe(orders[0].payload);
    expect(rotated).not.toContain(`"v1.${ring.keyId}.`);
    expect(rotated).toContain(`"v1.${next.keyId}.`);
    const { revealPayload } = await import('../../src/transform/index.js');
    expect(revealPayload(rotated, T, next)).toEqual(source);
    expect(rotatePayload(rotated, T, next)).toBe(rotated);
  });

  it('seals the PII of a record\'s objects outside arrays in one ciphertext, each array element in its own; payloads sealed one ciphertext per object (before) still reveal', async () => {
    const { createKeyRing } = await import('../../src/crypto/index.js');
    const { revealPayload, SEALED_KEY, DEFAULT_PII_KEYS } = await import('../../src/transform/index.js');
    let seals = 0;
    const counting = { ...ring, encrypt: (plaintext: string, tenantId: string) => { seals++; return ring.encrypt(plaintext, tenantId); } };
    const counted = new ShopifyTransformer({ keyRing: counting });
    const address = (first: string) => ({ firstName: first, lastName: 'Norman', name: `${first} Norman`, company: null, address1: '1 Main St', address2: '', city: 'Ottawa', zip: 'K2P 1L4', phone: '+1 555 0100' });
    // An order line of a bulk operation: its PII is in the order itself and two different addresses.
    const node = { id: 'gid://shopify/Order/7', legacyResourceId: '7', name: '#1007', email: 'bob@example.com', phone: '+1 555 0199', updatedAt: '2024-05-01T00:00:00Z', createdAt: '2024-05-01T00:00:00Z',
      billingAddress: address('Bob'), shippingAddress: address('Rob'), customer: { id: 'gid://shopify/Customer/3' } };
    const { orders } = counted.toRows('orders', node, T) as { orders: Array<{ payload: string }> };
    // email_enc, phone_enc and the payload's one ciphertext (five before: one per object holding PII).
    expect(seals).toBe(3);
    const stored = JSON.parse(orders[0].payload);
    expect(Object.keys(stored.billingAddress)).not.toContain(SEALED_KEY);
    expect(stored.billingAddress).toMatchObject({ city: 'Ottawa' });
    expect(JSON.stringify(stored)).not.toMatch(/Norman|bob@|1 Main St|K2P/);
    expect(revealPayload(orders[0].payload, T, ring)).toEqual(node);
    expect(() => revealPayload(orders[0].payload, 'another-tenant', ring)).toThrow();

    // REST: each line item (an array element, also stored alone as its row's payload) is sealed on its own.
    const [source] = await restOrdersPage();
    const rest = transformer.transformOrder(source, T);
    expect(revealPayload(rest.orders[0].payload, T, ring)).toEqual(source);
    for (const [k, item] of rest.lineItems.entries()) expect(revealPayload(item.payload, T, ring)).toEqual(source.line_items[k]);

    // A payload stored before: one ciphertext under the `_pii` of each object holding PII.
    const keys = new Set(DEFAULT_PII_KEYS);
    const sealEach = (v: unknown): unknown => {
      if (Array.isArray(v)) return v.map(sealEach);
      if (v === null || typeof v !== 'object') return v;
      const o = v as Record<string, unknown>;
      const person = ['first_name', 'last_name', 'firstName', 'lastName', 'address1'].some((k) => k in o);
      const out: Record<string, unknown> = {};
      const pii: Record<string, unknown> = {};
      for (const [k, x] of Object.entries(o)) {
        if ((keys.has(k) || (person && k === 'name')) && x !== null && x !== '') pii[k] = x;
        else out[k] = k.endsWith('_set') || k.endsWith('Set') ? x : sealEach(x);
      }
      if (Object.keys(pii).length > 0) out[SEALED_KEY] = ring.encryptJson(pii, T);
      return out;
    };
    const { stringifyShopifyJson } = await import('../../src/json.js');
    for (const record of [node, source]) {
      const before = stringifyShopifyJson(sealEach(record));
      expect((before.match(/"_pii"/g) ?? []).length).toBeGreaterThan(2);
      expect(revealPayload(before, T, ring)).toEqual(record);
    }
    // Keys rotated after the layout changed: old and new payloads rotate and still reveal.
    const { rotatePayload } = await import('../../src/transform/index.js');
    const next = createKeyRing({ key: 'c4'.repeat(32), previousKeys: [TEST_KEY], blindIndexKey: TEST_KEY });
    expect(revealPayload(rotatePayload(orders[0].payload, T, next), T, next)).toEqual(node);
  });

  it('extraPiiKeys seals more keys (e.g. notes, note_attributes, line item properties) whole', async () => {
    const { ShopifyTransformer: Transformer } = await import('../../src/transform/index.js');
    const strict = new Transformer({ keyRing: ring, extraPiiKeys: ['note', 'note_attributes', 'properties'] });
    const [source] = await restOrdersPage();
    const { orders, lineItems } = strict.transformOrder(source, T);
    expect(orders[0].payload).not.toContain('Happy Birthday');
    expect(lineItems[0].payload).not.toContain('Happy Birthday');
    expect(transformer.transformOrder(source, T).orders[0].payload).toContain('Happy Birthday');
  });
});

describe('time parsing is strict ISO-8601', () => {
  it('reads an offset-less time as UTC and rejects loose forms Date() would accept', async () => {
    const { orders } = transformer.transformOrder(order({ created_at: '2024-05-01T10:00:00', closed_at: '2024-05-02', processed_at: '2024-05-01 10:00:00.5+02:00' }), T);
    expect(orders[0].shopifyCreatedAt!.toISOString()).toBe('2024-05-01T10:00:00.000Z');
    expect(orders[0].closedAt!.toISOString()).toBe('2024-05-02T00:00:00.000Z');
    expect(orders[0].processedAt!.toISOString()).toBe('2024-05-01T08:00:00.500Z');
    for (const bad of ['1', 'May 1, 2024', '2024-13-45T00:00:00Z']) {
      expect(() => transformer.transformOrder(order({ created_at: bad }), T), bad).toThrow(/created_at is not an ISO-8601 time/);
    }
  });
});

describe('order payload serialisation', () => {
  it('is the exact sealed order even when a value imitates the internal line item marker', async () => {
    const [source] = await restOrdersPage();
    const tricky = { ...source, note: '\u0000shopify-ingest:line-item:0' };
    const { orders } = transformer.transformOrder(tricky, T);
    const { revealPayload } = await import('../../src/transform/index.js');
    expect(revealPayload(orders[0].payload, T, ring)).toEqual(tricky);
  });

  it('a GraphQL page\'s order stores its line items as rows only, as a bulk file\'s order does: the payload is the same either way', async () => {
    const { revealPayload } = await import('../../src/transform/index.js');
    const item = (n: number) => ({ id: `gid://shopify/LineItem/${n}`, title: `item ${n}`, quantity: n });
    const own = { id: 'gid://shopify/Order/7', name: '#1007', email: 'a@example.com', updatedAt: '2026-01-02T03:04:05Z' };
    const node = { ...own, lineItems: { nodes: [item(1), item(2), item(3)], pageInfo: { hasNextPage: false, endCursor: 'c3' } } };
    const { orders, lineItems } = transformer.transformOrder(node, T);
    expect(lineItems.map((r) => r.id)).toEqual([1n, 2n, 3n]);
    expect(lineItems.map((r) => JSON.parse(r.payload))).toEqual([item(1), item(2), item(3)]);
    expect(revealPayload(orders[0].payload, T, ring)).toEqual(own);
    // The order as a bulk file gives it (its items on lines of their own): the same payload.
    expect(revealPayload(transformer.transformOrder({ ...own }, T).orders[0].payload, T, ring)).toEqual(revealPayload(orders[0].payload, T, ring));
  });

  it('a GraphQL product stores its variants as rows only; a REST product keeps its variants array', () => {
    const variant = (n: number) => ({ id: `gid://shopify/ProductVariant/${n}`, title: `v${n}`, price: '1.00', updatedAt: '2026-01-02T03:04:05Z' });
    const own = { id: 'gid://shopify/Product/9', title: 'P', updatedAt: '2026-01-02T03:04:05Z' };
    const { products, variants } = transformer.transformProduct({ ...own, variants: { nodes: [variant(1), variant(2)] } }, T);
    expect(variants).toHaveLength(2);
    expect(JSON.parse(products[0].payload)).toEqual(own);
    const rest = { id: 9, title: 'P', updated_at: '2026-01-02T03:04:05Z', variants: [{ id: 1, title: 'v1', price: '1.00', updated_at: '2026-01-02T03:04:05Z' }] };
    expect(JSON.parse(transformer.transformProduct(rest, T).products[0].payload).variants).toHaveLength(1);
  });
});

describe('gids, amounts and times are read by hand exactly as their patterns read them', () => {
  // The patterns the hand-written fast paths stand for (src/transform/values.ts), with the slow
  // path's answers: a random input must give the same result, or the same kind of failure, both ways.
  const GID = /^gid:\/\/shopify\/[A-Za-z]+\/(\d+)(?:[?/#].*)?$/;
  const DECIMAL = /^(-?)(\d+)(?:\.(\d+))?$/;
  const ISO_TIME = /^(\d{4}-\d{2}-\d{2})(?:[T ](\d{2}:\d{2}(?::\d{2}(?:\.\d+)?)?)(Z|[+-]\d{2}:?\d{2})?)?$/i;
  const gidByPattern = (v: string) => { const m = GID.exec(v); return m ? BigInt(m[1]) : null; };
  const moneyByPattern = (v: string) => {
    const m = DECIMAL.exec(v.trim());
    if (v.trim() === '') return null;
    if (!m) return 'error';
    const [, sign, whole, fraction = ''] = m;
    return `${sign}${whole}.${fraction.length >= 2 ? fraction : fraction.padEnd(2, '0')}`;
  };
  const timeByPattern = (v: string) => {
    const m = ISO_TIME.exec(v);
    if (!m) return 'error';
    const date = new Date(m[2] === undefined ? `${v}T00:00:00Z` : m[3] === undefined ? `${v}Z` : v);
    return Number.isNaN(date.getTime()) ? 'error' : date.getTime();
  };
  const outcome = <T>(f: () => T) => { try { return f(); } catch { return 'error'; } };

  const SEEDS = process.env.VALUES_SEED ? [Number(process.env.VALUES_SEED)] : [7, Date.now() % 1_000_000];
  for (const seed of SEEDS) {
    it(`5,000 random gids, amounts and times each (seed ${seed}; replay with VALUES_SEED=${seed})`, async () => {
      const { createRandom } = await import('../../src/testing/prng.js');
      const random = createRandom(seed);
      const pick = (s: string) => s[Math.floor(random() * s.length)];
      const run = (alphabet: string, max: number) => Array.from({ length: Math.floor(random() * max) }, () => pick(alphabet)).join('');
      // Mostly near-valid inputs, mutated: the edges are where the two readings could part.
      const mutate = (s: string) => {
        const r = random();
        if (r < 0.5 || s.length === 0) return s;
        const i = Math.floor(random() * s.length);
        if (r < 0.7) return s.slice(0, i) + s.slice(i + 1);
        if (r < 0.9) return s.slice(0, i) + pick('0123456789aZ/?#:.-+ TtZz\u00e9') + s.slice(i);
        return s + pick('0123456789/?#Z ');
      };
      for (let i = 0; i < 5000; i++) {
        const gid = mutate(`gid://shopify/${run('OrderLineItmABCz', 12)}/${run('0123456789', 22)}${random() < 0.2 ? `?model_name=${run('ab', 4)}` : ''}`);
        expect(parseGid(gid), `seed ${seed}, case ${i}: ${gid}`).toBe(gidByPattern(gid));
        const amount = mutate(`${random() < 0.2 ? '-' : ''}${run('0123456789', 8)}${random() < 0.7 ? `.${run('0123456789', 4)}` : ''}`);
        expect(outcome(() => toMoney(amount, 'x')), `seed ${seed}, case ${i}: ${amount}`).toBe(moneyByPattern(amount));
        const d = (n: number, w: number) => String(Math.floor(random() * n)).padStart(w, '0');
        const when = mutate(`${d(3000, 4)}-${d(14, 2)}-${d(33, 2)}${random() < 0.9 ? `T${d(25, 2)}:${d(61, 2)}:${d(62, 2)}${random() < 0.3 ? `.${run('0123456789', 7)}` : ''}${pick('Z+-Z')}${random() < 0.5 ? '' : `${d(15, 2)}:${d(60, 2)}`}` : ''}`);
        expect(outcome(() => { const t = (transformer.transformOrder({ id: 1, updated_at: when }, T).orders[0]).shopifyUpdatedAt; return t!.getTime(); }), `seed ${seed}, case ${i}: ${when}`).toBe(timeByPattern(when));
      }
    });
  }
});
