/**
 * A scripted stand-in for Shopify's bulk-operation API, for unit tests of the bulk listing's state
 * machine (each status and error Shopify documents, on demand). Result files are served over real
 * HTTP with Range support. Integration tests run the same code against the simulator.
 */
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { GraphqlError } from '../../src/client/errors.js';

export interface FakeOp {
  id: string;
  query: string;
  status: string;
  errorCode: string | null;
  url: string | null;
  partialDataUrl: string | null;
  rootObjectCount: number;
  createdAt: string;
  polls: number;
}

/** What happens to the n-th operation started (by the SDK, or `preexisting`). */
export type Outcome =
  | { status: 'COMPLETED'; emptyUrl?: boolean; dropRoots?: number }
  | { status: 'FAILED'; errorCode: 'TIMEOUT' | 'INTERNAL_SERVER_ERROR' | 'ACCESS_DENIED'; partialRoots?: number }
  | { status: 'CANCELED' | 'EXPIRED' }
  | { status: 'COMPLETED_EXPIRED_LINK' };

const bag = (a: string) => ({ shopMoney: { amount: a, currencyCode: 'USD' }, presentmentMoney: { amount: a, currencyCode: 'USD' } });

/** GraphQL order nodes as Shopify returns them, with `lineItems` inline (for pages) and split off (for bulk). */
export function makeOrders(n: number, start = Date.parse('2026-01-01T00:00:00Z')): Array<Record<string, unknown>> {
  return Array.from({ length: n }, (_, i) => {
    const id = 9_000_000 + i;
    const created = new Date(start + i * 3_600_000).toISOString().replace('.000', '');
    const lines = Array.from({ length: 1 + (i % 4) }, (_, k) => ({
      __typename: 'LineItem', id: `gid://shopify/LineItem/${id * 10 + k}`, title: `Item ${k}`, variantTitle: null, sku: `SKU-${k}`, vendor: 'Acme',
      quantity: k + 1, currentQuantity: k + 1, unfulfilledQuantity: k + 1, originalUnitPriceSet: bag(`${k + 1}.50`), totalDiscountSet: bag('0.00'),
      product: { id: 'gid://shopify/Product/1' }, variant: { id: 'gid://shopify/ProductVariant/2' },
    }));
    return {
      __typename: 'Order', id: `gid://shopify/Order/${id}`, legacyResourceId: String(id), name: `#${1000 + i}`, email: `buyer${i}@example.com`, phone: null,
      displayFinancialStatus: 'PAID', displayFulfillmentStatus: 'UNFULFILLED', cancelReason: null, cancelledAt: null, closedAt: null, processedAt: created,
      currencyCode: 'USD', tags: [], sourceName: 'web', test: false, createdAt: created, updatedAt: created,
      subtotalPriceSet: bag('10.00'), totalPriceSet: bag('11.00'), totalTaxSet: bag('1.00'), totalDiscountsSet: bag('0.00'), totalRefundedSet: bag('0.00'),
      customer: null, billingAddress: null, shippingAddress: null, fulfillments: [], refunds: [],
      lineItems: { nodes: lines, pageInfo: { hasNextPage: false, endCursor: null } },
    };
  });
}

/** JSONL of orders as a bulk operation writes it with groupObjects: false: every parent, then the children far from them (reversed). */
export function bulkFile(orders: Array<Record<string, unknown>>): string[] {
  const parents: string[] = [];
  const children: string[] = [];
  for (const order of orders) {
    const { lineItems, ...rest } = order as { lineItems: { nodes: Array<Record<string, unknown>> } };
    parents.push(JSON.stringify(rest));
    for (const item of lineItems.nodes) children.push(JSON.stringify({ ...item, __parentId: order.id }));
  }
  return [...parents, ...children.reverse()];
}

export class FakeBulkShop {
  readonly shopDomain = 'fake-bulk.myshopify.com';
  scopes = ['read_orders', 'read_all_orders', 'read_customers', 'read_products'];
  readonly ops = new Map<string, FakeOp>();
  readonly files = new Map<string, string>();
  readonly outcomes: Outcome[] = [];
  /** Answer LIMIT_REACHED to the next n starts. */
  limitReached = 0;
  starts = 0;
  cancels = 0;
  /** Range headers of file requests. */
  readonly fileRequests: Array<string | undefined> = [];
  private nextOp = 1;
  private server!: http.Server;
  private base = '';

  constructor(public orders: Array<Record<string, unknown>>) {}

  async listen(): Promise<void> {
    this.server = http.createServer((req, res) => {
      this.fileRequests.push(req.headers.range);
      const body = this.files.get(req.url ?? '');
      if (body === undefined) { res.writeHead(403).end('expired'); return; }
      const buf = Buffer.from(body, 'utf8');
      const m = /^bytes=(\d+)-$/.exec(req.headers.range ?? '');
      const start = m ? Number(m[1]) : 0;
      res.writeHead(m ? 206 : 200, { 'content-length': buf.length - start }).end(buf.subarray(start));
    });
    await new Promise<void>((r) => this.server.listen(0, '127.0.0.1', r));
    this.base = `http://127.0.0.1:${(this.server.address() as AddressInfo).port}`;
  }

  close(): Promise<void> {
    return new Promise((r) => this.server.close(() => r()));
  }

  /** An operation already running with `query` (a crashed run's, or the host app's). */
  preexisting(query: string, status = 'RUNNING'): FakeOp {
    const op = this.newOp(query);
    op.status = status;
    return op;
  }

  private newOp(query: string): FakeOp {
    const id = `gid://shopify/BulkOperation/${this.nextOp++}`;
    const op: FakeOp = { id, query, status: 'CREATED', errorCode: null, url: null, partialDataUrl: null, rootObjectCount: 0, createdAt: '2026-06-01T00:00:00Z', polls: 0 };
    this.ops.set(id, op);
    return op;
  }

  /** Orders a bulk query's `created_at` / `updated_at` window selects. */
  private select(query: string): Array<Record<string, unknown>> {
    const min = /_at:>='([^']+)'/.exec(query)?.[1];
    const max = /_at:<='([^']+)'/.exec(query)?.[1];
    // On the field the query names, as Shopify's search does.
    const field = /updated_at:/.test(query) ? 'updatedAt' : 'createdAt';
    return this.orders.filter((o) => (!min || String(o[field]) >= min) && (!max || String(o[field]) <= max));
  }

  private finish(op: FakeOp): void {
    const outcome = this.outcomes.shift() ?? { status: 'COMPLETED' };
    const selected = this.select(op.query);
    const path = `/file/${op.id.split('/').pop()}.jsonl`;
    if (outcome.status === 'COMPLETED' || outcome.status === 'COMPLETED_EXPIRED_LINK') {
      op.status = 'COMPLETED';
      const dropped = outcome.status === 'COMPLETED' && outcome.dropRoots ? selected.slice(outcome.dropRoots) : selected;
      op.rootObjectCount = selected.length;
      if (selected.length === 0 || (outcome.status === 'COMPLETED' && outcome.emptyUrl)) { op.url = null; op.rootObjectCount = 0; return; }
      if (outcome.status === 'COMPLETED') this.files.set(path, bulkFile(dropped).join('\n') + '\n');
      op.url = this.base + path;
    } else if (outcome.status === 'FAILED') {
      op.status = 'FAILED';
      op.errorCode = outcome.errorCode;
      if (outcome.partialRoots) {
        this.files.set(`${path}.partial`, bulkFile(selected.slice(0, outcome.partialRoots)).join('\n') + '\n');
        op.partialDataUrl = `${this.base}${path}.partial`;
      }
    } else {
      op.status = outcome.status;
    }
  }

  private state(op: FakeOp) {
    return { ...op, objectCount: String(op.rootObjectCount), rootObjectCount: String(op.rootObjectCount), fileSize: null, completedAt: null };
  }

  async graphql<T>(query: string, variables: Record<string, unknown> = {}): Promise<T> {
    const name = /(?:query|mutation)\s+(\w+)/.exec(query)?.[1];
    switch (name) {
      case 'ShopifyIngestBulkRun': {
        this.starts++;
        if (this.limitReached > 0) {
          this.limitReached--;
          return { bulkOperationRunQuery: { bulkOperation: null, userErrors: [{ field: null, message: 'A bulk query operation for this app and shop is already in progress', code: 'LIMIT_REACHED' }] } } as T;
        }
        const op = this.newOp(String(variables.query));
        return { bulkOperationRunQuery: { bulkOperation: this.state(op), userErrors: [] } } as T;
      }
      case 'ShopifyIngestBulkGet': {
        const op = this.ops.get(String(variables.id));
        if (!op) return { bulkOperation: null } as T;
        op.polls++;
        if (op.status === 'CREATED' || op.status === 'RUNNING') this.finish(op);
        return { bulkOperation: this.state(op) } as T;
      }
      case 'ShopifyIngestBulkRunning':
      case 'ShopifyIngestBulkFind': {
        const after = /id:>(\d+)/.exec(String(variables?.completed ?? ''))?.[1];
        const completed = after === undefined ? undefined : { nodes: [...this.ops.values()].filter((o) => o.status === 'COMPLETED' && BigInt(o.id.replace(/\D/g, '')) > BigInt(after)).map((o) => this.state(o)) };
        return { running: { nodes: [...this.ops.values()].filter((o) => o.status === 'RUNNING').map((o) => this.state(o)) }, created: { nodes: [...this.ops.values()].filter((o) => o.status === 'CREATED').map((o) => this.state(o)) }, completed } as T;
      }
      case 'ShopifyIngestBulkNewest': {
        const ids = [...this.ops.keys()];
        return { first: { nodes: ids.slice(-1).map((id) => ({ id })) }, last: { nodes: ids.slice(0, 1).map((id) => ({ id })) } } as T;
      }
      case 'ShopifyIngestBulkCancel':
        this.cancels++;
        return { bulkOperationCancel: { bulkOperation: null, userErrors: [] } } as T;
      case 'ShopifyIngestScopes':
        return { currentAppInstallation: { accessScopes: this.scopes.map((handle) => ({ handle })) } } as T;
      case 'ShopifyIngestEarliest':
        return { orders: { nodes: this.orders.slice(0, 1).map((o) => ({ createdAt: o.createdAt, updatedAt: o.updatedAt })) } } as T;
      case 'ShopifyIngestCount':
        return { ordersCount: { count: this.orders.length, precision: 'EXACT' } } as T;
      case 'ShopifyIngestDestroyEvents':
        return { events: { nodes: [], pageInfo: { hasNextPage: false, endCursor: null } } } as T;
      case 'ShopifyIngestPage': {
        const search = String(variables.query ?? '');
        const selected = search ? this.select(search) : this.orders;
        const start = variables.after ? Number(variables.after) : 0;
        const first = Number(variables.first);
        const nodes = selected.slice(start, start + first).map((o) => ({ ...o, email: null }));
        const data = { orders: { nodes, pageInfo: { hasNextPage: start + first < selected.length, endCursor: String(start + nodes.length) } } };
        if (nodes.length === 0) return data as T;
        // Protected customer data: the field comes back null with an ACCESS_DENIED error, data kept.
        throw new GraphqlError({ shop: this.shopDomain, data, errors: nodes.map((_, i) => ({ message: 'This app is not approved to access the Order object\'s email field', path: ['orders', 'nodes', i, 'email'], extensions: { code: 'ACCESS_DENIED' } })) });
      }
      default:
        throw new Error(`fake shop: unexpected query ${name ?? query.slice(0, 60)}`);
    }
  }
}
