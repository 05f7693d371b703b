/**
 * Shopify bulk query operations: start one, find one already running, wait for it, cancel it.
 * https://shopify.dev/docs/api/usage/bulk-operations/queries
 *
 * - Since API 2026-01 an app may run up to 5 bulk queries per shop at once (1 before); the host app's
 *   own operations count too. Over the limit `bulkOperationRunQuery` answers with the user error
 *   `LIMIT_REACHED` (or `OPERATION_IN_PROGRESS` on older versions): the caller waits and tries again,
 *   and never cancels an operation it did not start.
 * - `bulkOperation(id:)` is polled with backoff; `bulk_operations/finish` is not guaranteed to be
 *   delivered, so a webhook only wakes the poll early (`wake`).
 * - `objectCount`, `rootObjectCount` and `fileSize` are UnsignedInt64, serialised as strings.
 */
import { ShopifyIngestError } from '../errors.js';
import { silentLogger, type Logger } from '../logger.js';
import { timerSleep } from '../abort.js';
import { parseGid } from '../transform/values.js';

/** Statuses of a bulk operation (BulkOperationStatus). */
export type BulkOperationStatus = 'CREATED' | 'RUNNING' | 'COMPLETED' | 'FAILED' | 'CANCELING' | 'CANCELED' | 'EXPIRED';

/** A bulk operation as Shopify reports it. */
export interface BulkOperationState {
  id: string;
  status: BulkOperationStatus;
  /** ACCESS_DENIED, INTERNAL_SERVER_ERROR or TIMEOUT (FAILED operations). */
  errorCode: string | null;
  /** Objects (lines) written so far. */
  objectCount: bigint;
  /** Root objects written so far (for a complete file: how many records it lists). */
  rootObjectCount: bigint;
  fileSize: bigint | null;
  /** Result file (7 days); null while running, and for a COMPLETED operation that found nothing. */
  url: string | null;
  /** What a FAILED operation wrote before it failed. */
  partialDataUrl: string | null;
  query: string | null;
  createdAt: string | null;
  completedAt: string | null;
}

/** Statuses after which an operation no longer changes. */
export const TERMINAL_BULK_STATUSES: ReadonlySet<BulkOperationStatus> = new Set(['COMPLETED', 'FAILED', 'CANCELED', 'EXPIRED']);

/** What this module needs of a client: GraphQL. */
export interface BulkGraphqlClient {
  readonly shopDomain: string;
  graphql<T = any>(query: string, variables?: Record<string, unknown>, options?: { signal?: AbortSignal }): Promise<T>;
}

/** Options of {@link BulkOperations}. */
export interface BulkOperationsOptions {
  logger?: Logger;
  sleep?: (ms: number, signal?: AbortSignal) => Promise<void>;
  /** First poll delay (default 1 s); doubles up to `maxPollMs`. */
  minPollMs?: number;
  /** Longest poll delay (default 30 s). */
  maxPollMs?: number;
  /** How long to keep retrying `LIMIT_REACHED` before giving up (default 6 h: other operations may run that long). */
  limitWaitMs?: number;
}

/** Errors of bulk operations, with stable codes. */
export class BulkOperationError extends ShopifyIngestError {}

const FIELDS = 'id status errorCode objectCount rootObjectCount fileSize url partialDataUrl query createdAt completedAt';

export const BULK_RUN_MUTATION = `mutation ShopifyIngestBulkRun($query: String!, $groupObjects: Boolean!) {
  bulkOperationRunQuery(query: $query, groupObjects: $groupObjects) { bulkOperation { ${FIELDS} } userErrors { field message code } }
}`;
export const BULK_GET_QUERY = `query ShopifyIngestBulkGet($id: ID!) { bulkOperation(id: $id) { ${FIELDS} } }`;
/** This app's operations that are running or created (not started yet: the search takes one status). */
export const BULK_RUNNING_QUERY = `query ShopifyIngestBulkRunning {
  running: bulkOperations(first: 25, query: "status:running operation_type:query") { nodes { ${FIELDS} } }
  created: bulkOperations(first: 25, query: "status:created operation_type:query") { nodes { ${FIELDS} } }
}`;
/**
 * As {@link BULK_RUNNING_QUERY}, and the operations completed after a given one (`$completed`:
 * `status:completed operation_type:query id:>N`).
 */
export const BULK_FIND_QUERY = `query ShopifyIngestBulkFind($completed: String!) {
  running: bulkOperations(first: 25, query: "status:running operation_type:query") { nodes { ${FIELDS} } }
  created: bulkOperations(first: 25, query: "status:created operation_type:query") { nodes { ${FIELDS} } }
  completed: bulkOperations(first: 25, query: $completed) { nodes { ${FIELDS} } }
}`;
/** This app's newest operation of any status: both ends of the list, whichever order it comes in (ids grow with creation). */
export const BULK_NEWEST_QUERY = `query ShopifyIngestBulkNewest {
  first: bulkOperations(first: 1) { nodes { id } }
  last: bulkOperations(last: 1) { nodes { id } }
}`;
/** Before API 2026-01 there is no `bulkOperation(id:)` nor `bulkOperations`: `node(id:)` and `currentBulkOperation` instead. */
export const BULK_NODE_QUERY = `query ShopifyIngestBulkNode($id: ID!) { node(id: $id) { ... on BulkOperation { ${FIELDS} } } }`;
export const BULK_CURRENT_QUERY = `query ShopifyIngestBulkCurrent { currentBulkOperation(type: QUERY) { ${FIELDS} } }`;
export const BULK_CANCEL_MUTATION = `mutation ShopifyIngestBulkCancel($id: ID!) { bulkOperationCancel(id: $id) { bulkOperation { ${FIELDS} } userErrors { field message } } }`;

type RawState = Omit<BulkOperationState, 'objectCount' | 'rootObjectCount' | 'fileSize'> & { objectCount: string | number | null; rootObjectCount: string | number | null; fileSize: string | number | null };

function unsigned(value: string | number | null | undefined): bigint | null {
  if (value === null || value === undefined || value === '') return null;
  return BigInt(value);
}

export function toBulkState(raw: RawState): BulkOperationState {
  return {
    ...raw,
    objectCount: unsigned(raw.objectCount) ?? 0n,
    rootObjectCount: unsigned(raw.rootObjectCount) ?? 0n,
    fileSize: unsigned(raw.fileSize),
  };
}

/**
 * Bulk query operations of one shop.
 *
 * @example
 * ```ts
 * const bulk = new BulkOperations(client);
 * const op = await bulk.start('{ orders { edges { node { id } } } }');
 * const done = await bulk.waitFor(op.id);
 * if (done.status === 'COMPLETED' && done.url) for await (const line of readJsonl(done.url)) console.log(line);
 * ```
 */
export class BulkOperations {
  private readonly logger: Logger;
  private readonly sleep: (ms: number, signal?: AbortSignal) => Promise<void>;
  private readonly minPollMs: number;
  private readonly maxPollMs: number;
  private readonly limitWaitMs: number;

  constructor(private readonly client: BulkGraphqlClient, options: BulkOperationsOptions = {}) {
    this.logger = options.logger ?? silentLogger;
    this.sleep = options.sleep ?? timerSleep;
    this.minPollMs = options.minPollMs ?? 1000;
    this.maxPollMs = options.maxPollMs ?? 30_000;
    this.limitWaitMs = options.limitWaitMs ?? 6 * 3_600_000;
  }

  /**
   * Starts a bulk query. While the shop's bulk-operation limit is reached (the host app's own operations
   * count), waits with backoff and tries again, up to `limitWaitMs`. Other user errors (an invalid query)
   * throw `BULK_OPERATION_INVALID`. When the mutation fails in a way that leaves unknown whether Shopify
   * started the operation (5xx, timeout, lost connection, cut-off answer), the running operation with
   * this query (with `askedAfter`, a {@link newestId} taken before: also one completed since) is
   * looked up and returned; only when there is none is the mutation sent again (up to
   * {@link AMBIGUOUS_START_RETRIES} times).
   */
  async start(query: string, options: { groupObjects?: boolean; signal?: AbortSignal; askedAfter?: string } = {}): Promise<BulkOperationState> {
    let delay = this.minPollMs;
    let waited = 0;
    let ambiguous = 0;
    for (;;) {
      let data: { bulkOperationRunQuery: { bulkOperation: RawState | null; userErrors: Array<{ field: string[] | null; message: string; code?: string | null }> } } | undefined;
      try {
        data = await this.client.graphql(BULK_RUN_MUTATION, { query, groupObjects: options.groupObjects ?? false }, { signal: options.signal });
      } catch (error) {
        if (!(error instanceof ShopifyIngestError) || !error.retryable || options.signal?.aborted || ambiguous >= AMBIGUOUS_START_RETRIES) throw error;
        ambiguous++;
        // Shopify may have started it: attach to that operation rather than start a second one.
        let running: BulkOperationState | null;
        try {
          running = await this.findRunning(query, { signal: options.signal, completedAfter: options.askedAfter });
        } catch {
          throw error;
        }
        if (running) {
          this.logger.info('bulk operation start failed ambiguously; attaching to the operation it started', { shop: this.client.shopDomain, id: running.id, error });
          return running;
        }
        this.logger.warn('bulk operation start failed and none is running; starting it again', { shop: this.client.shopDomain, waitMs: delay, error });
        await this.sleep(delay, options.signal);
        delay = Math.min(this.maxPollMs, delay * 2);
        continue;
      }
      const payload = data?.bulkOperationRunQuery;
      if (!payload) throw new BulkOperationError('BULK_OPERATION_INVALID', `bulkOperationRunQuery on ${this.client.shopDomain} returned no payload`, { details: { shop: this.client.shopDomain } });
      const errors = payload.userErrors ?? [];
      if (payload.bulkOperation && errors.length === 0) return toBulkState(payload.bulkOperation);
      // The code decides; only an error without one (older versions) is read by its message.
      const busy = errors.find((e) => e.code === 'LIMIT_REACHED' || e.code === 'OPERATION_IN_PROGRESS' || (!e.code && /already in progress|limit/i.test(e.message)));
      if (!busy) {
        throw new BulkOperationError('BULK_OPERATION_INVALID', `Shopify refused the bulk query on ${this.client.shopDomain}: ${errors.map((e) => e.message).join('; ') || 'no operation returned'}`, {
          details: { shop: this.client.shopDomain, userErrors: errors },
        });
      }
      if (waited >= this.limitWaitMs) {
        throw new BulkOperationError('BULK_OPERATION_LIMIT', `bulk operations of ${this.client.shopDomain} stayed at Shopify's limit for ${Math.round(waited / 60_000)} min (${busy.message})`, {
          retryable: true, details: { shop: this.client.shopDomain, userErrors: errors },
        });
      }
      this.logger.info('bulk operation limit reached, waiting', { shop: this.client.shopDomain, code: busy.code, waitMs: delay });
      await this.sleep(delay, options.signal);
      waited += delay;
      delay = Math.min(this.maxPollMs, delay * 2);
    }
  }

  /** The operation's current state, or null when Shopify does not know it (or it belongs to another app). */
  async get(id: string, options: { signal?: AbortSignal } = {}): Promise<BulkOperationState | null> {
    return this.byVersion(async () => {
      const data = await this.client.graphql<{ bulkOperation?: RawState | null }>(BULK_GET_QUERY, { id }, options);
      if (!data || !('bulkOperation' in data)) throw this.shapeless('bulkOperation');
      return data.bulkOperation ? toBulkState(data.bulkOperation) : null;
    }, async () => {
      const data = await this.client.graphql<{ node?: RawState | null }>(BULK_NODE_QUERY, { id }, options);
      if (!data || !('node' in data)) throw this.shapeless('node');
      return data.node?.id ? toBulkState(data.node) : null;
    });
  }

  /**
   * The numeric id of this app's newest bulk operation of any status on the shop ('0' for none):
   * recorded before an operation is asked for, so that one created after it can be told from older
   * ones ({@link findRunning}'s `completedAfter`).
   */
  async newestId(options: { signal?: AbortSignal } = {}): Promise<string> {
    const ids = await this.byVersion(async () => {
      const data = await this.client.graphql<{ first?: { nodes?: Array<{ id?: unknown }> }; last?: { nodes?: Array<{ id?: unknown }> } }>(BULK_NEWEST_QUERY, undefined, { signal: options.signal });
      if (!Array.isArray(data?.first?.nodes) || !Array.isArray(data?.last?.nodes)) throw this.shapeless('bulkOperations.nodes');
      return [...data.first.nodes, ...data.last.nodes].map((n) => n?.id);
    }, async () => [(await this.current(options.signal))?.id]);
    return ids.map((id) => parseGid(id) ?? 0n).reduce((a, b) => (b > a ? b : a), 0n).toString();
  }

  /**
   * A running (or created) operation of this app whose query is exactly `query`, if any: a crashed
   * run's operation to re-attach to. With `completedAfter` (a {@link newestId} taken before the
   * operation was asked for), also one that completed since, with an id above it: a run killed
   * before it saved the id of the operation it asked for. An older completed operation of the same
   * query (a previous run's, a rejected attempt) is never taken for it.
   */
  async findRunning(query: string, options: { signal?: AbortSignal; completedAfter?: string } = {}): Promise<BulkOperationState | null> {
    const after = options.completedAfter !== undefined && /^\d+$/.test(options.completedAfter) ? BigInt(options.completedAfter) : null;
    const completedAfter = (n: RawState) => n.status === 'COMPLETED' && after !== null && (parseGid(n.id) ?? 0n) > after;
    const nodes = await this.byVersion(async () => {
      const data = after !== null
        ? await this.client.graphql<{ running?: { nodes?: RawState[] }; created?: { nodes?: RawState[] }; completed?: { nodes?: RawState[] } }>(
          BULK_FIND_QUERY, { completed: `status:completed operation_type:query id:>${after}` }, { signal: options.signal })
        : await this.client.graphql<{ running?: { nodes?: RawState[] }; created?: { nodes?: RawState[] }; completed?: undefined }>(BULK_RUNNING_QUERY, undefined, { signal: options.signal });
      // A shapeless answer is an error: read as "none running", it would start a second operation.
      if (!Array.isArray(data?.running?.nodes) || !Array.isArray(data?.created?.nodes) || (after !== null && !Array.isArray(data?.completed?.nodes))) throw this.shapeless('bulkOperations.nodes');
      // The search's own filter, checked again; the newest first, the last one asked for.
      const completed = data.completed?.nodes?.filter(completedAfter).sort((a, b) => ((parseGid(b.id) ?? 0n) > (parseGid(a.id) ?? 0n) ? 1 : -1)) ?? [];
      return [...data.running.nodes, ...data.created.nodes, ...completed];
    }, async () => {
      const current = await this.current(options.signal);
      return current && (current.status === 'CREATED' || current.status === 'RUNNING' || completedAfter(current)) ? [current] : [];
    });
    const wanted = normalise(query);
    const match = nodes.find((n) => n.query !== null && normalise(n.query) === wanted);
    return match ? toBulkState(match) : null;
  }

  /** The API version lacks `bulkOperation(id:)` / `bulkOperations` (before 2026-01). */
  private legacy = false;

  /** `modern()` from API 2026-01; `legacy()` before it (once Shopify said a field is undefined, from then on). */
  private async byVersion<T>(modern: () => Promise<T>, legacy: () => Promise<T>): Promise<T> {
    if (!this.legacy) {
      try {
        return await modern();
      } catch (error) {
        if (!isUndefinedField(error)) throw error;
        this.legacy = true;
      }
    }
    return legacy();
  }

  /** `currentBulkOperation` (before 2026-01: the app's newest query operation). */
  private async current(signal: AbortSignal | undefined): Promise<RawState | null> {
    const data = await this.client.graphql<{ currentBulkOperation?: RawState | null }>(BULK_CURRENT_QUERY, undefined, { signal });
    if (!data || !('currentBulkOperation' in data)) throw this.shapeless('currentBulkOperation');
    return data.currentBulkOperation ?? null;
  }

  private shapeless(field: string): ShopifyIngestError {
    return new ShopifyIngestError('SHOPIFY_BAD_RESPONSE', `Shopify's answer about bulk operations of ${this.client.shopDomain} lacks ${field}`, {
      retryable: true, details: { shop: this.client.shopDomain, field },
    });
  }

  /** Asks Shopify to cancel an operation this SDK started. */
  async cancel(id: string, options: { signal?: AbortSignal } = {}): Promise<BulkOperationState | null> {
    const data = await this.client.graphql<{ bulkOperationCancel: { bulkOperation: RawState | null; userErrors: Array<{ message: string }> } }>(BULK_CANCEL_MUTATION, { id }, options);
    const op = data?.bulkOperationCancel?.bulkOperation;
    return op ? toBulkState(op) : null;
  }

  /**
   * Polls until the operation reaches a terminal status (COMPLETED, FAILED, CANCELED, EXPIRED), with
   * delays doubling from `minPollMs` to `maxPollMs`. `wake(id)` (e.g. a `bulk_operations/finish`
   * webhook seen in this process) cuts a delay short. `onPoll` sees every state.
   */
  async waitFor(id: string, options: { signal?: AbortSignal; wake?: (id: string, signal: AbortSignal) => Promise<void>; onPoll?: (state: BulkOperationState) => void } = {}): Promise<BulkOperationState> {
    let delay = this.minPollMs;
    for (;;) {
      const state = await this.get(id, { signal: options.signal });
      if (!state) throw new BulkOperationError('BULK_OPERATION_NOT_FOUND', `bulk operation ${id} of ${this.client.shopDomain} is unknown to Shopify`, { details: { shop: this.client.shopDomain, id } });
      options.onPoll?.(state);
      if (TERMINAL_BULK_STATUSES.has(state.status)) return state;
      await this.pause(delay, id, options);
      delay = Math.min(this.maxPollMs, delay * 2);
    }
  }

  private async pause(ms: number, id: string, options: { signal?: AbortSignal; wake?: (id: string, signal: AbortSignal) => Promise<void> }): Promise<void> {
    if (!options.wake) { await this.sleep(ms, options.signal); return; }
    const stop = new AbortController();
    const onAbort = () => stop.abort(options.signal?.reason);
    options.signal?.addEventListener('abort', onAbort, { once: true });
    try {
      // Whichever ends first; the other is then aborted, and its rejection is expected.
      await Promise.race([this.sleep(ms, stop.signal).catch(() => {}), options.wake(id, stop.signal).catch(() => this.sleep(ms, stop.signal).catch(() => {}))]);
    } finally {
      stop.abort();
      options.signal?.removeEventListener('abort', onAbort);
    }
    if (options.signal?.aborted) throw options.signal.reason;
  }
}

const normalise = (query: string) => query.replace(/\s+/g, ' ').trim();

/** How many times {@link BulkOperations.start} sends the mutation again after ambiguous failures with no operation found running. */
export const AMBIGUOUS_START_RETRIES = 3;

/** A GraphQL error saying a field does not exist (an older API version). */
function isUndefinedField(error: unknown): boolean {
  const errors = (error as { errors?: Array<{ message?: string; extensions?: { code?: string } }> })?.errors;
  return Array.isArray(errors) && errors.some((e) => e.extensions?.code === 'undefinedField' || /doesn't exist on type/.test(e.message ?? ''));
}
