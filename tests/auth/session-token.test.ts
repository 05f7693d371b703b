import { describe, expect, it } from 'vitest';
import { createHmac } from 'node:crypto';
import { authenticateRequest, createApiKeySet, createAuthenticator, signSessionToken, verifySessionToken } from '../../src/auth/index.js';
import { ConfigError } from '../../src/errors.js';
import type { Logger } from '../../src/logger.js';

const apiKey = 'a1b2c3d4e5f6-client-id';
const apiSecret = 'shpss_0123456789abcdef0123456789abcdef';
const now = new Date('2025-06-01T12:00:00Z');
const shop = 'acme-store.myshopify.com';
const opts = { apiKey, apiSecret, now: () => now };

const b64 = (v: unknown) => Buffer.from(JSON.stringify(v)).toString('base64url');
function forge(header: Record<string, unknown>, payload: Record<string, unknown>, secret = apiSecret): string {
  const body = `${b64(header)}.${b64(payload)}`;
  return `${body}.${createHmac('sha256', secret).update(body).digest('base64url')}`;
}
const claims = (extra: Record<string, unknown> = {}) => ({
  iss: `https://${shop}/admin`, dest: `https://${shop}`, aud: apiKey, sub: '42', sid: 's1',
  exp: now.getTime() / 1000 + 60, nbf: now.getTime() / 1000 - 1, iat: now.getTime() / 1000 - 1, jti: 'j1', ...extra,
});

describe('verifySessionToken', () => {
  it('accepts a valid token and exposes the shop', () => {
    const token = signSessionToken({ shop, apiKey, apiSecret, now });
    const result = verifySessionToken(token, opts);
    expect(result).toMatchObject({ ok: true, shop, claims: { aud: apiKey, sub: '1' } });
  });

  it('rejects an expired token, allowing a small clock skew', () => {
    const t = now.getTime() / 1000;
    expect(verifySessionToken(forge({ alg: 'HS256', typ: 'JWT' }, claims({ exp: t - 60 })), opts)).toEqual({ ok: false, reason: 'expired' });
    expect(verifySessionToken(forge({ alg: 'HS256' }, claims({ exp: t - 3 })), opts).ok).toBe(true); // within 5 s
    expect(verifySessionToken(forge({ alg: 'HS256' }, claims({ exp: t - 3 })), { ...opts, clockToleranceSec: 0 })).toEqual({ ok: false, reason: 'expired' });
    expect(verifySessionToken(forge({ alg: 'HS256' }, claims({ exp: undefined })), opts)).toEqual({ ok: false, reason: 'expired' });
    expect(verifySessionToken(forge({ alg: 'HS256' }, claims({ nbf: t + 30 })), opts)).toEqual({ ok: false, reason: 'not-yet-valid' });
  });

  it('rejects a wrong audience', () => {
    expect(verifySessionToken(forge({ alg: 'HS256' }, claims({ aud: 'another-app' })), opts)).toEqual({ ok: false, reason: 'wrong-audience' });
    expect(verifySessionToken(forge({ alg: 'HS256' }, claims({ aud: ['x', apiKey] })), opts).ok).toBe(true);
  });

  it('rejects a wrong signature, and accepts a previous secret only when configured', () => {
    const other = forge({ alg: 'HS256' }, claims(), 'shpss_old_secret_xxxxxxxxxxxxxxxx');
    expect(verifySessionToken(other, opts)).toEqual({ ok: false, reason: 'bad-signature' });
    expect(verifySessionToken(other, { ...opts, apiSecret: [apiSecret, 'shpss_old_secret_xxxxxxxxxxxxxxxx'] }).ok).toBe(true);
    // payload tampered after signing
    const [h, , s] = signSessionToken({ shop, apiKey, apiSecret, now }).split('.');
    const tampered = `${h}.${b64(claims({ dest: 'https://victim.myshopify.com', iss: 'https://victim.myshopify.com/admin' }))}.${s}`;
    expect(verifySessionToken(tampered, opts)).toEqual({ ok: false, reason: 'bad-signature' });
    // truncated signature
    const valid = signSessionToken({ shop, apiKey, apiSecret, now });
    expect(verifySessionToken(valid.slice(0, -4), opts)).toEqual({ ok: false, reason: 'bad-signature' });
  });

  it('rejects alg none and any algorithm but HS256', () => {
    const none = `${b64({ alg: 'none', typ: 'JWT' })}.${b64(claims())}.`;
    expect(verifySessionToken(none, opts).ok).toBe(false);
    const noneWithSig = `${b64({ alg: 'none' })}.${b64(claims())}.${'A'.repeat(43)}`;
    expect(verifySessionToken(noneWithSig, opts)).toEqual({ ok: false, reason: 'unsupported-alg' });
    // correctly HMAC-signed, but declaring another algorithm
    expect(verifySessionToken(forge({ alg: 'HS512' }, claims()), opts)).toEqual({ ok: false, reason: 'unsupported-alg' });
    expect(verifySessionToken(forge({ alg: 'RS256' }, claims()), opts)).toEqual({ ok: false, reason: 'unsupported-alg' });
    expect(verifySessionToken(forge({ alg: 'hs256' }, claims()), opts)).toEqual({ ok: false, reason: 'unsupported-alg' });
  });

  it('rejects malformed tokens', () => {
    for (const token of ['', 'abc', 'a.b', 'a.b.c.d', '!!!.???.***', `${b64({ alg: 'HS256' })}.notjson.sig`, `${b64([1, 2])}.${b64(claims())}.sig`, 'x'.repeat(9000)]) {
      expect(verifySessionToken(token, opts), token.slice(0, 20)).toEqual({ ok: false, reason: 'malformed' });
    }
  });

  it('requires dest and iss on the same *.myshopify.com shop over https', () => {
    const bad = [
      { dest: 'https://evil.example.com', iss: 'https://evil.example.com/admin' },
      { dest: `http://${shop}`, iss: `http://${shop}/admin` },
      { dest: `https://${shop}`, iss: 'https://other.myshopify.com/admin' },
      { dest: `https://${shop}.evil.com`, iss: `https://${shop}.evil.com/admin` },
      { dest: undefined },
    ];
    for (const c of bad) expect(verifySessionToken(forge({ alg: 'HS256' }, claims(c)), opts)).toEqual({ ok: false, reason: 'bad-shop' });
    expect(verifySessionToken(forge({ alg: 'HS256' }, claims({ dest: 'https://ACME-store.myshopify.com' })), opts)).toMatchObject({ ok: true, shop });
  });
});

describe('authenticateRequest', () => {
  const options = { apiKey, apiSecret, apiKeys: ['ops-key-0001', 'ops-key-0002'], now: () => now, env: {} };

  it('accepts a session token as Bearer and returns the shop principal', () => {
    const token = signSessionToken({ shop, apiKey, apiSecret, now, claims: { sub: '77', sid: 'abc' } });
    const result = authenticateRequest({ authorization: `Bearer ${token}` }, options);
    expect(result).toMatchObject({ ok: true, principal: { type: 'session-token', shop, userId: '77', sessionId: 'abc' } });
    if (result.ok && result.principal.type === 'session-token') expect(result.principal.expiresAt).toEqual(new Date(now.getTime() + 60_000));
  });

  it('accepts a static key in x-api-key or as Bearer, in Node or Fetch headers', () => {
    expect(authenticateRequest({ 'x-api-key': 'ops-key-0002' }, options)).toEqual({ ok: true, principal: { type: 'api-key', keyIndex: 1 } });
    expect(authenticateRequest({ authorization: 'Bearer ops-key-0001' }, options)).toEqual({ ok: true, principal: { type: 'api-key', keyIndex: 0 } });
    expect(authenticateRequest(new Headers({ 'X-Api-Key': 'ops-key-0001' }), options).ok).toBe(true);
    expect(authenticateRequest({ 'X-API-KEY': ['ops-key-0001'] }, options).ok).toBe(true);
  });

  it('rejects bad keys, other schemes and missing credentials', () => {
    for (const headers of [
      {}, { 'x-api-key': 'ops-key-000' }, { 'x-api-key': 'ops-key-00011' }, { 'x-api-key': '' },
      { authorization: 'Bearer wrong' }, { authorization: 'Basic b3BzOm9wcy1rZXktMDAwMQ==' }, { authorization: 'ops-key-0001' },
    ]) expect(authenticateRequest(headers as Record<string, string>, options)).toEqual({ ok: false });
  });

  it('logs why a request failed, at debug, without the credential', () => {
    const lines: string[] = [];
    const logger: Logger = { debug: (m, meta) => lines.push(JSON.stringify({ m, meta })), info() {}, warn() {}, error() {} };
    const auth = createAuthenticator({ ...options, logger });
    const expired = signSessionToken({ shop, apiKey, apiSecret, now: new Date(now.getTime() - 3600_000) });
    expect(auth({ authorization: `Bearer ${expired}` })).toEqual({ ok: false });
    expect(auth({ 'x-api-key': 'guess-1234' })).toEqual({ ok: false });
    expect(lines.join('\n')).toContain('session token expired');
    expect(lines.join('\n')).not.toContain(expired);
    expect(lines.join('\n')).not.toContain('guess-1234');
  });

  it('reads SHOPIFY_API_KEY, SHOPIFY_API_SECRET and INGEST_API_KEYS when options leave them out', () => {
    const env = { SHOPIFY_API_KEY: apiKey, SHOPIFY_API_SECRET: apiSecret, INGEST_API_KEYS: 'env-key-1111, env-key-2222' };
    const auth = createAuthenticator({ env, now: () => now });
    expect(auth({ 'x-api-key': 'env-key-2222' }).ok).toBe(true);
    expect(auth({ authorization: `Bearer ${signSessionToken({ shop, apiKey, apiSecret, now })}` }).ok).toBe(true);
  });

  it('refuses to build an authenticator that accepts nothing', () => {
    expect(() => createAuthenticator({ env: {} })).toThrow(ConfigError);
    expect(() => createAuthenticator({ env: {}, sessionTokens: true, apiKey })).toThrow(/SHOPIFY_API_SECRET/);
    // api keys only: session tokens are not accepted
    const keysOnly = createAuthenticator({ env: {}, apiKeys: ['only-key-1234'] });
    expect(keysOnly({ authorization: `Bearer ${signSessionToken({ shop, apiKey, apiSecret })}` })).toEqual({ ok: false });
  });
});

describe('createApiKeySet', () => {
  it('matches exact keys only and ignores empty ones', () => {
    const keys = createApiKeySet(['', 'k-one-1111', 'k-two-2222']);
    expect(keys.size).toBe(2);
    expect(keys.match('k-two-2222')).toBe(1);
    expect(keys.match('k-two-222')).toBe(-1);
    expect(keys.match('K-TWO-2222')).toBe(-1);
    expect(keys.match('')).toBe(-1);
  });
});
