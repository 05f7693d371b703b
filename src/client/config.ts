import { ConfigError } from '../errors.js';

/**
 * The Admin API version used when none is given: the newest stable release when this SDK version was cut.
 * Shopify releases one per quarter and supports each for at least 12 months
 * (https://shopify.dev/docs/api/usage/versioning); pin `apiVersion` yourself to control upgrades.
 */
export const DEFAULT_API_VERSION = '2026-10';

const SHOP_DOMAIN = /^[a-z0-9][a-z0-9-]*\.myshopify\.com$/;
const HOSTNAME = /^[a-z0-9]([a-z0-9-]*[a-z0-9])?(\.[a-z0-9]([a-z0-9-]*[a-z0-9])?)*(:\d{1,5})?$/;
const API_VERSION = /^(\d{4})-(0[1-9]|1[0-2])$|^unstable$/;

/**
 * Normalises and checks a shop domain: `mystore.myshopify.com` (scheme, path and case are tolerated and
 * stripped). With `allowAnyHost` (a custom `baseUrl`, e.g. the simulator) any hostname is accepted.
 *
 * @example
 * ```ts
 * normalizeShopDomain('https://MyStore.myshopify.com/') // 'mystore.myshopify.com'
 * normalizeShopDomain('evil.example.com')               // throws ConfigError
 * ```
 */
export function normalizeShopDomain(input: unknown, allowAnyHost = false): string {
  if (typeof input !== 'string' || input.trim() === '') {
    throw new ConfigError('shopDomain is required (e.g. "mystore.myshopify.com")');
  }
  const domain = input.trim().toLowerCase().replace(/^https?:\/\//, '').replace(/\/.*$/, '');
  if (SHOP_DOMAIN.test(domain)) return domain;
  if (allowAnyHost && HOSTNAME.test(domain)) return domain;
  throw new ConfigError(
    `shopDomain "${input}" is not a *.myshopify.com domain${allowAnyHost ? ' nor a valid hostname' : ' (pass baseUrl to target another host)'}`,
    { details: { shopDomain: input } },
  );
}

/**
 * Checks an Admin API version string (`YYYY-MM` or `unstable`).
 *
 * @example
 * ```ts
 * assertApiVersion('2025-10'); // ok
 * assertApiVersion('2025-13'); // throws ConfigError
 * ```
 */
export function assertApiVersion(version: unknown): asserts version is string {
  if (typeof version !== 'string' || !API_VERSION.test(version)) {
    throw new ConfigError(`apiVersion "${String(version)}" must look like YYYY-MM (e.g. "${DEFAULT_API_VERSION}")`, {
      details: { apiVersion: version },
    });
  }
}

/** Throws a ConfigError unless `token` is a non-empty string without whitespace. */
export function assertAccessToken(token: unknown): asserts token is string {
  if (typeof token !== 'string' || token.trim() === '' || /\s/.test(token)) {
    throw new ConfigError('accessToken is required (a non-empty Admin API access token)');
  }
}

/** Checks a base URL (`http(s)://host[:port]`), returning it without a trailing slash. */
export function normalizeBaseUrl(input: string): string {
  let url: URL;
  try {
    url = new URL(input);
  } catch (cause) {
    throw new ConfigError(`baseUrl "${input}" is not a valid URL`, { cause });
  }
  if (url.protocol !== 'http:' && url.protocol !== 'https:') {
    throw new ConfigError(`baseUrl "${input}" must use http or https`);
  }
  return `${url.origin}${url.pathname.replace(/\/+$/, '')}`;
}
