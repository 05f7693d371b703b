/**
 * Both halves of a GraphQL `MoneyBag` (`{ shopMoney { amount currencyCode } presentmentMoney { ... } }`)
 * as exact decimal strings: the shop's currency for accounting, the buyer's for what they saw.
 * https://shopify.dev/docs/api/admin-graphql/latest/objects/MoneyBag
 */
import { money, isObject, str } from './values.js';

/** The shop and presentment amounts and currencies of a MoneyBag (all null when it is absent). */
export interface BagAmounts {
  shop: string | null;
  presentment: string | null;
  shopCurrency: string | null;
  presentmentCurrency: string | null;
}

/**
 * @example
 * ```ts
 * bagAmounts({ shopMoney: { amount: '10.0', currencyCode: 'USD' }, presentmentMoney: { amount: '9.2', currencyCode: 'EUR' } }, 'amount')
 * // { shop: '10.00', presentment: '9.20', shopCurrency: 'USD', presentmentCurrency: 'EUR' }
 * ```
 */
export function bagAmounts(bag: unknown, field: string): BagAmounts {
  if (!isObject(bag)) return { shop: null, presentment: null, shopCurrency: null, presentmentCurrency: null };
  const shop = bag.shopMoney ?? bag.shop_money;
  const presentment = bag.presentmentMoney ?? bag.presentment_money;
  const half = (m: unknown, which: string) => (isObject(m) ? money(m.amount, `${field} (${which})`) : null);
  const code = (m: unknown) => (isObject(m) ? str(m.currencyCode ?? m.currency_code) : null);
  return { shop: half(shop, 'shop'), presentment: half(presentment, 'presentment'), shopCurrency: code(shop), presentmentCurrency: code(presentment) };
}
