import { describe, expect, it } from 'vitest';
import { createJsonLogger, redact } from '../../src/logger.js';

describe('redact', () => {
  it('masks secret and PII keys at any depth', () => {
    const out = redact({ tenantId: 't1', customer: { email: 'a@b.co', nested: { phone: '+1555', accessToken: 'x' } }, list: [{ first_name: 'Ann' }] });
    expect(out).toEqual({ tenantId: 't1', customer: { email: '[redacted]', nested: { phone: '[redacted]', accessToken: '[redacted]' } }, list: [{ first_name: '[redacted]' }] });
  });

  it('masks Shopify tokens, bearer credentials and emails inside strings and errors', () => {
    const error = new Error('request with shpat_abc123 for jane@example.com failed');
    const out = redact({ error, url: 'https://x/?t=shpat_zzz', header: 'Bearer eyJhbGciOi.abc.def' }) as Record<string, any>;
    expect(JSON.stringify(out)).not.toMatch(/shpat_|jane@example\.com|eyJhbGciOi/);
    expect(out.error.message).toContain('[redacted]');
  });

  it('survives cycles and bigint', () => {
    const a: Record<string, unknown> = { id: 820982911946154508n };
    a.self = a;
    expect(redact(a)).toEqual({ id: '820982911946154508', self: '[circular]' });
  });
});

describe('createJsonLogger', () => {
  it('writes one JSON line per call above the level, with no secrets', () => {
    const lines: string[] = [];
    const logger = createJsonLogger({ level: 'info', write: (l) => lines.push(l), now: () => new Date('2024-01-01T00:00:00Z') });
    logger.debug('hidden');
    logger.info('token shpat_secret used', { tenantId: 't', meta: { email: 'x@y.io' } });
    expect(lines).toHaveLength(1);
    const entry = JSON.parse(lines[0]!);
    expect(entry).toMatchObject({ time: '2024-01-01T00:00:00.000Z', level: 'info', tenantId: 't', meta: { email: '[redacted]' } });
    expect(lines[0]).not.toContain('shpat_secret');
  });
});
