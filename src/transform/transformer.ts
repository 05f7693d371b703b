import { assertTenantId, ShopifyIngestError } from '../errors.js';
import { createKeyRing, envKeyRing, keyRingMaterialOf, type KeyRing, type KeyRingEnv, type KeyRingMaterial } from '../crypto/key-ring.js';
import type { CustomerRow, OrderBundle, ProductBundle } from '../store/rows.js';
import { FieldError, TransformError, type TransformFailure } from './errors.js';
import { createRecordSealer, DEFAULT_PII_KEYS, type RecordSealer } from './pii.js';
import { isObject, pick, resolveId, time, type JsonObject } from './values.js';
import { getResource } from '../resources/registry.js';
import type { RowSet } from '../resources/definition.js';

/** Options of {@link ShopifyTransformer}. */
export interface ShopifyTransformerOptions {
  /** Encrypts PII; see `createKeyRing` / `keyRingFromEnv`. */
  keyRing: KeyRing;
  /** Keys treated as PII in stored payloads besides the default ones (docs/security.md lists them), e.g. `['note']`. */
  extraPiiKeys?: readonly string[];
}

/** Options of the batch methods. */
export interface TransformBatchOptions {
  /** Called for each record that cannot be transformed (it is also listed in `failures`). */
  onError?: (failure: TransformFailure) => void;
  /** Throw the first {@link TransformError} instead of collecting failures. */
  strict?: boolean;
}

/** Rows of a batch of customers, and the records that failed. */
export interface CustomersBatchResult {
  /** Rows of the records that transformed. */
  customers: CustomerRow[];
  /** Records that did not, with the reason. */
  failures: TransformFailure[];
}
/** Rows of a batch of products, and the records that failed. */
export interface ProductsBatchResult extends ProductBundle {
  /** Records that did not transform, with the reason. */
  failures: TransformFailure[];
}
/** Rows of a batch of orders, and the records that failed. */
export interface OrdersBatchResult extends OrderBundle {
  /** Records that did not transform, with the reason. */
  failures: TransformFailure[];
}

/**
 * The exact Shopify id of a record (REST/webhook body or GraphQL node), or null: `admin_graphql_api_id`
 * first, then `id`, then `legacyResourceId`. Useful for delete webhooks, whose bodies hold only an id.
 *
 * @example
 * ```ts
 * resolveShopifyId(parseShopifyJson('{"id": 820982911946154508}')) // 820982911946154508n
 * resolveShopifyId({ id: 'gid://shopify/Order/450789469' })         // 450789469n
 * ```
 */
export function resolveShopifyId(record: unknown): bigint | null {
  if (!isObject(record)) return null;
  try { return resolveId(record); } catch { return null; }
}

/**
 * Turns Shopify records into rows: pure functions of the record, the tenant and the key ring (no I/O).
 * Accepts REST and webhook bodies (snake_case; parse them with `parseShopifyJson` so 64-bit ids stay
 * exact) and GraphQL nodes (gid ids, camelCase, MoneyBag amounts, connections); both give the same rows.
 * PII goes into `*Enc` columns and is sealed inside `payload` (see docs/security.md).
 *
 * The static methods use a key ring built from `ENCRYPTION_KEY` & co. on first use (the seed's API);
 * instances take an explicit ring.
 *
 * @example
 * ```ts
 * // seed style, keys from the environment
 * const customer = ShopifyTransformer.transformCustomer(shopifyCustomer, tenantId);
 * const { orders, lineItems, events } = ShopifyTransformer.transformOrdersBatch(shopifyOrders, tenantId);
 *
 * // explicit key ring
 * const transformer = new ShopifyTransformer({ keyRing: createKeyRing({ key }) });
 * const { products, variants } = transformer.transformProduct(product, tenantId);
 * ```
 */
export class ShopifyTransformer {
  /** The key ring PII is encrypted with. */
  readonly keyRing: KeyRing;
  private readonly piiKeys: ReadonlySet<string>;
  private readonly blindIndex: (email: string) => string;

  /**
   * What another thread needs to build the same transformer (see {@link transformerSpecOf}).
   * @internal
   */
  private readonly extraPiiKeys: readonly string[];

  constructor(options: ShopifyTransformerOptions) {
    if (!options || !options.keyRing) throw new ShopifyIngestError('INVALID_ARGUMENT', 'new ShopifyTransformer({ keyRing }) needs a key ring (createKeyRing / keyRingFromEnv)');
    this.keyRing = options.keyRing;
    this.extraPiiKeys = [...(options.extraPiiKeys ?? [])];
    this.piiKeys = new Set([...DEFAULT_PII_KEYS, ...(options.extraPiiKeys ?? [])]);
    this.blindIndex = (email) => this.keyRing.blindIndex(email);
  }

  /**
   * The transformer the static methods use: built from the environment's keys, rebuilt when they change.
   * Throws `ConfigError` when `ENCRYPTION_KEY` is missing or malformed.
   *
   * @example
   * ```ts
   * const transformer = ShopifyTransformer.fromEnv(); // same as the static methods use
   * ```
   */
  static fromEnv(env: KeyRingEnv = process.env): ShopifyTransformer {
    const ring = envKeyRing(env);
    const cached = envTransformers.get(ring);
    if (cached) return cached;
    const transformer = new ShopifyTransformer({ keyRing: ring });
    envTransformers.set(ring, transformer);
    return transformer;
  }

  /** Static form of {@link ShopifyTransformer.prototype.transformCustomer}, keys from the environment. */
  static transformCustomer(data: unknown, tenantId: string): CustomerRow { return ShopifyTransformer.fromEnv().transformCustomer(data, tenantId); }
  /** Static form of {@link ShopifyTransformer.prototype.transformCustomersBatch}. */
  static transformCustomersBatch(data: Iterable<unknown>, tenantId: string, options?: TransformBatchOptions): CustomersBatchResult { return ShopifyTransformer.fromEnv().transformCustomersBatch(data, tenantId, options); }
  /** Static form of {@link ShopifyTransformer.prototype.transformProduct}. */
  static transformProduct(data: unknown, tenantId: string): ProductBundle { return ShopifyTransformer.fromEnv().transformProduct(data, tenantId); }
  /** Static form of {@link ShopifyTransformer.prototype.transformProductsBatch}. */
  static transformProductsBatch(data: Iterable<unknown>, tenantId: string, options?: TransformBatchOptions): ProductsBatchResult { return ShopifyTransformer.fromEnv().transformProductsBatch(data, tenantId, options); }
  /** Static form of {@link ShopifyTransformer.prototype.transformOrder}. */
  static transformOrder(data: unknown, tenantId: string): OrderBundle { return ShopifyTransformer.fromEnv().transformOrder(data, tenantId); }
  /** Static form of {@link ShopifyTransformer.prototype.transformOrdersBatch}. */
  static transformOrdersBatch(data: Iterable<unknown>, tenantId: string, options?: TransformBatchOptions): OrdersBatchResult { return ShopifyTransformer.fromEnv().transformOrdersBatch(data, tenantId, options); }

  /**
   * One customer -> one row. Email, names, phone and addresses become ciphertext; `emailHash` is the
   * blind index. Throws {@link TransformError} when the record has no id or no `updated_at`.
   *
   * @example
   * ```ts
   * const row = transformer.transformCustomer({ id: 1, email: 'Bob@x.com', updated_at: '2024-01-01T00:00:00Z' }, 'tenant-1');
   * transformer.keyRing.decrypt(row.emailEnc!, 'tenant-1') // 'Bob@x.com'
   * ```
   */
  transformCustomer(data: unknown, tenantId: string): CustomerRow {
    return (this.toRows('customers', data, tenantId) as { customers: CustomerRow[] }).customers[0];
  }

  /**
   * One product -> `{ products: [row], variants }`.
   *
   * @example
   * ```ts
   * const { products, variants } = transformer.transformProduct(productJson, 'tenant-1');
   * ```
   */
  transformProduct(data: unknown, tenantId: string): ProductBundle {
    return this.toRows('products', data, tenantId) as unknown as ProductBundle;
  }

  /**
   * One order -> `{ orders: [row], lineItems, events }`.
   *
   * @example
   * ```ts
   * const { orders, lineItems, events } = transformer.transformOrder(orderJson, 'tenant-1');
   * events.map((e) => e.type) // ['created', 'paid', 'refunded']
   * ```
   */
  transformOrder(data: unknown, tenantId: string): OrderBundle {
    return this.toRows('orders', data, tenantId) as unknown as OrderBundle;
  }

  /**
   * One record of any registered resource (REST or webhook body, or GraphQL node) to its rows, by
   * table key (`{ orders, lineItems, events }`). Throws {@link TransformError} for a record without an
   * id or `updated_at`, or with a malformed field.
   *
   * @example
   * ```ts
   * const rows = transformer.toRows('orders', orderNode, 'tenant-1');
   * rows.lineItems.length; // the order's line items (those the node carries)
   * ```
   */
  toRows(resource: string, data: unknown, tenantId: string): RowSet {
    const definition = getResource(resource);
    return this.record(resource, data, tenantId, (record, id, updatedAt, sealer) =>
      definition.toRows(record, { tenantId, id, updatedAt, sealer, blindIndex: this.blindIndex }));
  }

  /**
   * One child line of a bulk operation's output (a node of a nested connection, with `__parentId`) to
   * one row of the child table `table` of `resource`.
   *
   * @example
   * ```ts
   * const lineItem = transformer.childRow('orders', 'lineItems', line, 450789469n, 'tenant-1');
   * ```
   * `options.text` is the line's JSON text without `__parentId`: stored as the row's payload when the
   * line holds no PII, instead of serialising `data` again.
   */
  childRow(resource: string, table: string, data: unknown, parentId: bigint, tenantId: string, options?: { text?: string }): unknown {
    assertTenantId(tenantId);
    const definition = getResource(resource);
    if (!isObject(data)) throw new TransformError(resource, null, `a ${table} line is not a JSON object`);
    try {
      return definition.childRow(table, data, { tenantId, parentId, sealer: createRecordSealer(this.keyRing, tenantId, this.piiKeys, options?.text === undefined ? undefined : { record: data, text: options.text }), blindIndex: this.blindIndex });
    } catch (error) {
      if (error instanceof TransformError) throw error;
      let id: bigint | null = null;
      try { id = resolveId(data); } catch { /* no usable id */ }
      const reason = error instanceof FieldError ? error.message : `unexpected ${(error as Error)?.name ?? 'error'}: ${(error as Error)?.message ?? String(error)}`;
      throw new TransformError(resource, id, `${table}: ${reason}`, { cause: error });
    }
  }

  /**
   * Many customers; records that fail are listed in `failures` (and passed to `onError`) while the
   * others are returned.
   *
   * @example
   * ```ts
   * const { customers, failures } = transformer.transformCustomersBatch(page, 'tenant-1');
   * ```
   */
  transformCustomersBatch(data: Iterable<unknown>, tenantId: string, options: TransformBatchOptions = {}): CustomersBatchResult {
    const result: CustomersBatchResult = { customers: [], failures: [] };
    this.batch(data, options, result.failures, (record) => { result.customers.push(this.transformCustomer(record, tenantId)); }, tenantId);
    return result;
  }

  /**
   * Many products -> all product and variant rows, plus `failures`.
   *
   * @example
   * ```ts
   * const { products, variants, failures } = transformer.transformProductsBatch(page, 'tenant-1');
   * ```
   */
  transformProductsBatch(data: Iterable<unknown>, tenantId: string, options: TransformBatchOptions = {}): ProductsBatchResult {
    const result: ProductsBatchResult = { products: [], variants: [], failures: [] };
    this.batch(data, options, result.failures, (record) => {
      const bundle = this.transformProduct(record, tenantId);
      for (const row of bundle.products) result.products.push(row);
      for (const row of bundle.variants) result.variants.push(row);
    }, tenantId);
    return result;
  }

  /**
   * Many orders -> `{ orders, lineItems, events }` (the seed's shape) plus `failures`.
   *
   * @example
   * ```ts
   * const { orders, lineItems, events, failures } = transformer.transformOrdersBatch(page, 'tenant-1', {
   *   onError: (f) => logger.warn('order skipped', { id: String(f.shopifyId), reason: f.reason }),
   * });
   * ```
   */
  transformOrdersBatch(data: Iterable<unknown>, tenantId: string, options: TransformBatchOptions = {}): OrdersBatchResult {
    const result: OrdersBatchResult = { orders: [], lineItems: [], events: [], failures: [] };
    this.batch(data, options, result.failures, (record) => {
      const bundle = this.transformOrder(record, tenantId);
      for (const row of bundle.orders) result.orders.push(row);
      for (const row of bundle.lineItems) result.lineItems.push(row);
      for (const row of bundle.events) result.events.push(row);
    }, tenantId);
    return result;
  }

  private batch(data: Iterable<unknown>, options: TransformBatchOptions, failures: TransformFailure[], each: (record: unknown) => void, tenantId: string): void {
    assertTenantId(tenantId);
    for (const record of data) {
      try {
        each(record);
      } catch (error) {
        if (!(error instanceof TransformError) || options.strict) throw error;
        const failure: TransformFailure = { shopifyId: error.shopifyId, reason: error.reason, error };
        failures.push(failure);
        options.onError?.(failure);
      }
    }
  }

  private record<T>(resource: string, data: unknown, tenantId: string, build: (record: JsonObject, id: bigint, updatedAt: Date, sealer: RecordSealer) => T): T {
    assertTenantId(tenantId);
    if (!isObject(data)) throw new TransformError(resource, null, 'record is not a JSON object');
    let id: bigint | null = null;
    try {
      id = resolveId(data);
      if (id === null) throw new TransformError(resource, null, 'record has no id (admin_graphql_api_id, id or legacyResourceId)');
      const updatedAt = time(pick(data, 'updated_at', 'updatedAt'), 'updated_at');
      if (updatedAt === null) throw new TransformError(resource, id, 'updated_at is missing (needed to order versions)');
      return build(data, id, updatedAt, createRecordSealer(this.keyRing, tenantId, this.piiKeys));
    } catch (error) {
      if (error instanceof TransformError) throw error;
      const reason = error instanceof FieldError ? error.message : `unexpected ${(error as Error)?.name ?? 'error'}: ${(error as Error)?.message ?? String(error)}`;
      throw new TransformError(resource, id, reason, { cause: error });
    }
  }
}

// Transformers for environment key rings, held weakly by their ring (envKeyRing keeps one ring per env signature).
const envTransformers = new WeakMap<KeyRing, ShopifyTransformer>();

/** How to build a transformer again in a worker thread: its key ring's material and options. */
export interface TransformerSpec {
  keyRing: KeyRingMaterial;
  extraPiiKeys: string[];
}

/**
 * The spec of `transformer` when it is a {@link ShopifyTransformer} whose key ring
 * {@link createKeyRing} built with its default random source; null otherwise (a host's own
 * transformer or key ring runs where the host put it).
 * @internal
 */
export function transformerSpecOf(transformer: unknown): TransformerSpec | null {
  if (!(transformer instanceof ShopifyTransformer)) return null;
  const keyRing = keyRingMaterialOf(transformer.keyRing);
  if (!keyRing) return null;
  return { keyRing, extraPiiKeys: [...(transformer as unknown as { extraPiiKeys: string[] }).extraPiiKeys] };
}

/** The transformer a {@link TransformerSpec} describes. */
export function transformerFromSpec(spec: TransformerSpec): ShopifyTransformer {
  // Buffers arrive in another thread as plain Uint8Arrays.
  const { key, previousKeys, blindIndexKey } = spec.keyRing;
  const keyRing = createKeyRing({ key: Buffer.from(key), previousKeys: previousKeys.map((k) => Buffer.from(k)), blindIndexKey: Buffer.from(blindIndexKey) });
  return new ShopifyTransformer({ keyRing, extraPiiKeys: spec.extraPiiKeys });
}
