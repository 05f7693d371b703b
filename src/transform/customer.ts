import type { CustomerRow } from '../store/rows.js';
import type { RecordSealer } from './pii.js';
import { bool, int, isObject, lower, moneyOf, nodes, pick, snakeKey, str, tags, time, toBigId, type JsonObject } from './values.js';

/**
 * An address in REST spelling (`first_name`, `province_code`, `country_code`), whichever API it
 * came from, so `addressesEnc` decrypts to one shape. GraphQL ids (`gid://shopify/MailingAddress/1?model_name=CustomerAddress`)
 * become numeric ids.
 */
export function normaliseAddress(address: JsonObject): JsonObject {
  const out: JsonObject = {};
  for (const key of Object.keys(address)) {
    const value = address[key];
    const name = snakeKey(key);
    if (name === 'id' && typeof value === 'string') out.id = toBigId(value) ?? value;
    else if (!(name in out)) out[name] = value;
  }
  return out;
}

/** GraphQL `emailMarketingConsent.marketingState`, REST `email_marketing_consent.state` or legacy `accepts_marketing`. */
function acceptsMarketing(data: JsonObject): boolean | null {
  const legacy = pick(data, 'accepts_marketing', 'acceptsMarketing');
  if (typeof legacy === 'boolean') return legacy;
  const consent = pick(data, 'email_marketing_consent', 'emailMarketingConsent');
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
  const amountSpent = data.amountSpent;
  return {
    tenantId,
    id,
    emailEnc: sealer.value(email),
    emailHash: email ? blindIndex(email) : null,
    firstNameEnc: sealer.value(str(pick(data, 'first_name', 'firstName'))),
    lastNameEnc: sealer.value(str(pick(data, 'last_name', 'lastName'))),
    phoneEnc: sealer.value(customerPhone(data)),
    addressesEnc: addresses.length > 0 ? sealer.json(addresses.map(normaliseAddress)) : null,
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
