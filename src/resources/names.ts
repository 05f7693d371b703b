/**
 * A resource's name: `customers`, `products`, `orders`, ... Its own module so row types can name
 * resources without importing the registry (registry.ts checks it against the registry, both ways).
 */
export type ResourceName =
  | 'customers' | 'products' | 'orders' | 'shop' | 'locations' | 'inventory' | 'collections' | 'refunds' | 'transactions' | 'fulfillments'
  | 'metafields' | 'discounts'
  | 'draftOrders' | 'abandonedCheckouts';
