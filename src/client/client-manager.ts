import { assertTenantId, TenantError } from '../errors.js';
import type { Logger } from '../logger.js';
import { createShopifyClient, type ShopifyClient, type ShopifyClientOptions } from './client.js';
import { LimiterRegistry, type LimiterRegistryOptions } from './limiter.js';
import type { AccessTokenSource } from '../auth/token-source.js';
import type { ApiNotice } from './api-notice.js';

/** What identifies a tenant's store. */
export interface ShopifyCredentials {
  /** The shop, `*.myshopify.com`. */
  shopDomain: string;
  /** A token, or a source of renewable tokens (see `ShopifyClientOptions.accessToken`). */
  accessToken: string | AccessTokenSource;
  /** Admin API version (default the manager's). */
  apiVersion?: string;
}

/** Client options that are not credentials (applied to every client unless overridden per tenant). */
export type ClientDefaults = Omit<ShopifyClientOptions, 'shopDomain' | 'accessToken' | 'limiters' | 'redis'>;

/** Options of {@link ClientManager}. */
export interface ClientManagerOptions extends ClientDefaults {
  /** Limiter settings (bucket, leak rate, Redis cluster mode, clock) shared by all clients of the manager. */
  limiter?: Omit<LimiterRegistryOptions, 'now' | 'sleep' | 'logger'>;
  /**
   * Use this registry instead of creating one (it is then not stopped by {@link ClientManager.close}).
   * @internal
   */
  limiters?: LimiterRegistry;
  logger?: Logger;
  /**
   * Told of each client's API notices (another version answered, deprecations), with its tenant.
   * @internal
   */
  onTenantApiNotice?: (tenantId: string, notice: ApiNotice) => void;
}

/**
 * One {@link ShopifyClient} per tenant. All clients share the manager's limiter registry, keyed by shop
 * domain: two tenants pointing at the same shop draw from one rate-limit budget, as Shopify counts it.
 *
 * @example
 * ```ts
 * const manager = new ClientManager({ logger });
 * manager.addClient('tenant-123', { shopDomain: 'acme.myshopify.com', accessToken: 'shpat_xxx' });
 * const orders = await manager.getClient('tenant-123').fetchAllPages('/orders.json');
 * await manager.close();
 * ```
 */
export class ClientManager {
  /**
   * The registry every client of this manager draws its limiter from.
   * @internal
   */
  readonly limiters: LimiterRegistry;
  private readonly byTenant = new Map<string, ShopifyClient>();
  private readonly defaults: ClientDefaults;
  private readonly ownsRegistry: boolean;
  private readonly onTenantApiNotice: ((tenantId: string, notice: ApiNotice) => void) | undefined;

  constructor(options: ClientManagerOptions = {}) {
    const { limiter, limiters, onTenantApiNotice, ...defaults } = options;
    this.defaults = defaults;
    this.onTenantApiNotice = onTenantApiNotice;
    this.ownsRegistry = !limiters;
    this.limiters = limiters ?? new LimiterRegistry({ ...limiter, now: options.now, sleep: options.sleep, logger: options.logger });
  }

  /**
   * Creates (or replaces) the client of `tenantId`. Invalid credentials throw a `ConfigError` here.
   *
   * @example
   * ```ts
   * const client = manager.addClient('t1', { shopDomain: 's.myshopify.com', accessToken: token }, { apiVersion: '2025-10' });
   * ```
   */
  addClient(tenantId: string, credentials: ShopifyCredentials, options: ClientDefaults = {}): ShopifyClient {
    assertTenantId(tenantId);
    const tenantNotice = this.onTenantApiNotice;
    const telemetry = options.telemetry ?? this.defaults.telemetry;
    const client = createShopifyClient({
      ...this.defaults,
      ...(tenantNotice ? { onApiNotice: (notice: ApiNotice) => tenantNotice(tenantId, notice) } : {}),
      ...options,
      ...credentials,
      limiters: this.limiters,
      telemetry: telemetry?.forTenant(tenantId),
    });
    this.byTenant.set(tenantId, client);
    return client;
  }

  /**
   * The client of `tenantId`; throws `TenantError` (`TENANT_NOT_FOUND`) when there is none.
   *
   * @example
   * ```ts
   * const ok = await manager.getClient('t1').healthCheck();
   * ```
   */
  getClient(tenantId: string): ShopifyClient {
    assertTenantId(tenantId);
    const client = this.byTenant.get(tenantId);
    if (!client) throw new TenantError('TENANT_NOT_FOUND', `no Shopify client for tenant "${tenantId}"`, tenantId);
    return client;
  }

  /** Whether a tenant has a client. */
  hasClient(tenantId: string): boolean {
    return this.byTenant.has(tenantId);
  }

  /** Removes the tenant's client; the shop's limiter goes too once no other tenant uses that shop. Returns whether a client existed. */
  async removeClient(tenantId: string): Promise<boolean> {
    const client = this.byTenant.get(tenantId);
    if (!client) return false;
    this.byTenant.delete(tenantId);
    const shopStillUsed = [...this.byTenant.values()].some((c) => c.shopDomain === client.shopDomain);
    if (!shopStillUsed) await this.limiters.delete(client.shopDomain);
    return true;
  }

  /** `[tenantId, client]` pairs. */
  clients(): Array<[string, ShopifyClient]> {
    return [...this.byTenant.entries()];
  }

  /** Tenants with a client. */
  tenantIds(): string[] {
    return [...this.byTenant.keys()];
  }

  /** Tenants with a client. */
  get size(): number {
    return this.byTenant.size;
  }

  /** Forgets every client and stops the limiters (closing Redis connections the manager opened). */
  async close(): Promise<void> {
    this.byTenant.clear();
    if (this.ownsRegistry) await this.limiters.stop();
  }

  /** Alias of {@link close}. */
  stop(): Promise<void> {
    return this.close();
  }
}

/**
 * Creates a {@link ClientManager}.
 *
 * @example
 * ```ts
 * const manager = createClientManager({ limiter: { redis: { clientOptions: { host: '127.0.0.1' } } } });
 * ```
 */
export function createClientManager(options: ClientManagerOptions = {}): ClientManager {
  return new ClientManager(options);
}
