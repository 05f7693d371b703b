import { describe, expect, it } from 'vitest';
import { parseLinkHeader } from '../../src/client/link-header.js';
import { inferListKey, nextPageQuery, serializeQuery } from '../../src/client/pagination.js';
import { parseCallLimit, RestBucket } from '../../src/client/rest-bucket.js';

const base = 'https://s.myshopify.com/admin/api/2025-10/orders.json';

describe('parseLinkHeader', () => {
  it('reads a quoted rel="next"', () => {
    const links = parseLinkHeader(`<${base}?limit=250&page_info=abc>; rel="next"`);
    expect(links.next).toEqual({ url: `${base}?limit=250&page_info=abc`, pageInfo: 'abc', limit: 250 });
    expect(links.previous).toBeUndefined();
  });

  it('reads an unquoted rel=next and upper-case REL', () => {
    expect(parseLinkHeader(`<${base}?page_info=x1>; rel=next`).next?.pageInfo).toBe('x1');
    expect(parseLinkHeader(`<${base}?page_info=x2>;REL=NEXT`).next?.pageInfo).toBe('x2');
  });

  it('reads previous and next in any order, with URLs containing commas', () => {
    const header = `<${base}?page_info=prev1&limit=50&fields=id,name>; rel="previous", <${base}?page_info=next1&limit=50&fields=id,name>; rel="next"`;
    const links = parseLinkHeader(header);
    expect(links.previous?.pageInfo).toBe('prev1');
    expect(links.next).toMatchObject({ pageInfo: 'next1', limit: 50, fields: 'id,name' });
  });

  it('returns no links for a missing, empty or malformed header', () => {
    expect(parseLinkHeader(undefined)).toEqual({});
    expect(parseLinkHeader('')).toEqual({});
    expect(parseLinkHeader('garbage; rel="next"')).toEqual({});
    expect(parseLinkHeader(`<${base}?limit=250>; rel="next"`)).toEqual({}); // no cursor
    expect(parseLinkHeader(`<${base}?page_info=a>; rel="previous"`).next).toBeUndefined();
  });
});

describe('pagination helpers', () => {
  it('infers list keys from paths', () => {
    expect(inferListKey('/customers.json')).toBe('customers');
    expect(inferListKey('/orders.json?status=any')).toBe('orders');
    expect(inferListKey('/products/12/variants.json')).toBe('variants');
    expect(inferListKey('/customers/search.json')).toBe('customers');
  });

  it('keeps only limit and fields next to page_info', () => {
    const q = nextPageQuery({ url: '', pageInfo: 'c2' }, { status: 'any', created_at_min: '2024-01-01', limit: 250, fields: 'id' });
    expect(q).toEqual({ page_info: 'c2', limit: 250, fields: 'id' });
  });

  it('serialises arrays as comma lists and dates as ISO strings', () => {
    expect(serializeQuery({ ids: [1, 2n, '3'], at: new Date('2024-01-01T00:00:00Z'), skip: undefined, none: null })).toEqual({
      ids: '1,2,3',
      at: '2024-01-01T00:00:00.000Z',
    });
  });
});

describe('RestBucket', () => {
  it('parses the call-limit header', () => {
    expect(parseCallLimit('39/40')).toEqual({ used: 39, size: 40 });
    expect(parseCallLimit(' 1 / 80 ')).toEqual({ used: 1, size: 80 });
    expect(parseCallLimit('nonsense')).toBeUndefined();
  });

  it('learns size and leak rate from the header (40->2/s, 80->4/s, 400->20/s) unless the rate is fixed', () => {
    const b = new RestBucket({ now: 0 });
    b.take(0);
    b.observe({ used: 1, size: 80 }, 0);
    expect([b.size, b.leakRate]).toEqual([80, 4]);
    b.observe({ used: 1, size: 400 }, 0);
    expect(b.leakRate).toBe(20);
    const fixed = new RestBucket({ now: 0, leakRate: 20 });
    fixed.observe({ used: 1, size: 40 }, 0);
    expect(fixed.leakRate).toBe(20);
  });

  it('bursts up to size - margin, then paces at the leak rate', () => {
    const b = new RestBucket({ now: 0, size: 40, leakRate: 2, safetyMargin: 2 });
    for (let i = 1; i <= 38; i++) {
      expect(b.waitTime(0)).toBe(0);
      const seq = b.take(0);
      b.observe({ used: i, size: 40 }, 0, seq);
      b.settle(0, true, seq);
    }
    expect(b.waitTime(0)).toBe(500);
    expect(b.waitTime(500)).toBe(0);
  });

  it('counts requests in flight in full until they are answered (a slow server counts them late)', () => {
    const b = new RestBucket({ now: 0, size: 40, leakRate: 2, safetyMargin: 2 });
    for (let i = 0; i < 38; i++) b.take(0);
    expect(b.waitTime(60_000)).toBeGreaterThan(0);
    b.settle(60_000, false); // answered without a header: assumed counted, then leaks
    expect(b.levelAt(60_000)).toBe(38);
    expect(b.waitTime(60_500)).toBe(0);
  });

  it('takes the header as truth when alone, and never lowers the estimate from an out-of-order response', () => {
    const b = new RestBucket({ now: 0, size: 40, leakRate: 2 });
    let s = b.take(0);
    b.observe({ used: 30, size: 40 }, 0, s); // another app used the bucket
    b.settle(0, true, s);
    expect(b.levelAt(0)).toBe(30);
    s = b.take(0);
    b.observe({ used: 3, size: 40 }, 0, s); // alone: the bucket drained more than we thought
    b.settle(0, true, s);
    expect(b.levelAt(0)).toBe(3);
    const older = b.take(0);
    const newer = b.take(0);
    b.observe({ used: 9, size: 40 }, 0, newer); // newer response first
    b.settle(0, true, newer);
    b.observe({ used: 5, size: 40 }, 0, older); // then the older one: must not lower the estimate
    b.settle(0, true, older);
    expect(b.levelAt(0)).toBe(9);
  });
});
