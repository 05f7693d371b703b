import type { CustomerRow } from '../store/rows.js';
import type { RecordSealer } from './pii.js';
import { bool, int, isObject, lower, moneyOf, nodes, pick, snakeKey, str, tags, time, toBigId, type JsonObject } from './values.js';

/** The fields of a stored address: what REST and GraphQL both carry (GraphQL's `countryCodeV2` is REST's `country_code`). */
const ADDRESS_FIELDS = ['id', 'first_name', 'last_name', 'name', 'company', 'address1', 'address2', 'city', 'province', 'province_code', 'country', 'country_code', 'zip', 'phone'] as const;

/**
 * An address in one shape whichever API it came from, so `addressesEnc` decrypts to the same JSON:
 * REST spelling (`first_name`, `province_code`, `country_code`), the fields both APIs carry, and
 * `default` (REST's flag; for GraphQL, whether it is the customer's `defaultAddress`). GraphQL ids
 * (`gid://shopify/MailingAddress/1?model_name=CustomerAddress`) become numeric ids.
 */
export function normaliseAddress(address: JsonObject, defaultId?: bigint | null): JsonObject {
  const snake: JsonObject = {};
  for (const key of Object.keys(address)) {
    let name = snakeKey(key);
    if (name === 'country_code_v2') name = 'country_code';
    if (!(name in snake)) snake[name] = address[key];
  }
  const out: JsonObject = {};
  for (const field of ADDRESS_FIELDS) {
    const value = snake[field];
    if (value === undefined) continue;
    out[field] = field === 'id' && typeof value === 'string' ? toBigId(value) ?? value : value;
  }
  if (typeof snake.default === 'boolean') out.default = snake.default;
  else if (defaultId !== undefined) out.default = defaultId !== null && out.id === defaultId;
  return out;
}

/** GraphQL `emailMarketingConsent.marketingState`, REST `email_marketing_consent.state` or legacy `accepts_marketing`. */
function acceptsMarketing(data: JsonObject): boolean | null {
  const legacy = pick(data, 'accepts_marketing', 'acceptsMarketing');
  if (typeof legacy === 'boolean') return legacy;
  let consent = pick(data, 'email_marketing_consent', 'emailMarketingConsent');
  // 2025-04+: the consent moved to the email address (`defaultEmailAddress.marketingState`).
  if (!isObject(consent) && isObject(data.defaultEmailAddress)) consent = data.defaultEmailAddress;
  if (!isObject(consent)) return null;
  const state = lower(pick(consent, 'state', 'marketingState'));
  return state === null ? null : state === 'subscribed';
}

/** Email of a customer: REST/GraphQL `email`, or the newer GraphQL `defaultEmailAddress { emailAddress }`. */
export function customerEmail(data: JsonObject): string | null {
  const direct = str(data.email);
  if (direct) return direct;
  const nested = data.defaultEmailAddress;
  return isObject(nested) ? str(nested.emailAddress) : null;
}

function customerPhone(data: JsonObject): string | null {
  const direct = str(data.phone);
  if (direct) return direct;
  const nested = data.defaultPhoneNumber;
  return isObject(nested) ? str(nested.phoneNumber) : null;
}

/** Builds the customer row; `id` and `updatedAt` were validated by the caller. */
export function customerRow(data: JsonObject, id: bigint, updatedAt: Date, tenantId: string, sealer: RecordSealer, blindIndex: (email: string) => string): CustomerRow {
  const email = customerEmail(data);
  let addresses = nodes(data.addresses);
  if (addresses.length === 0) addresses = nodes(data.addressesV2);
  if (addresses.length === 0) {
    const fallback = pick(data, 'default_address', 'defaultAddress');
    if (isObject(fallback)) addresses = [fallback];
  }
  const graphDefault = isObject(data.defaultAddress) ? toBigId(data.defaultAddress.id) : data.defaultAddress === null ? null : undefined;
  const amountSpent = data.amountSpent;
  return {
    tenantId,
    id,
    emailEnc: sealer.value(email),
    emailHash: email ? blindIndex(email) : null,
    firstNameEnc: sealer.value(str(pick(data, 'first_name', 'firstName'))),
    lastNameEnc: sealer.value(str(pick(data, 'last_name', 'lastName'))),
    phoneEnc: sealer.value(customerPhone(data)),
    addressesEnc: addresses.length > 0 ? sealer.json(addresses.map((a) => normaliseAddress(a, graphDefault))) : null,
    state: lower(data.state),
    verifiedEmail: bool(pick(data, 'verified_email', 'verifiedEmail')),
    acceptsMarketing: acceptsMarketing(data),
    tags: tags(data.tags),
    currency: str(data.currency) ?? (isObject(amountSpent) ? str(amountSpent.currencyCode) : null),
    ordersCount: int(pick(data, 'orders_count', 'numberOfOrders', 'ordersCount'), 'orders_count'),
    totalSpent: moneyOf(data, 'total_spent', 'total_spent', 'amountSpent', 'totalSpentV2'),
    shopifyCreatedAt: time(pick(data, 'created_at', 'createdAt'), 'created_at'),
    shopifyUpdatedAt: updatedAt,
    deletedAt: null,
    payload: sealer.payload(data),
  };
}
