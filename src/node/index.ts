/**
 * The one place where Node's `(req, res)` becomes a Web `Request` and a Web `Response` is written
 * back. Every Node-based adapter (plain `node:http`, Express, Fastify, Next.js Pages Router) goes
 * through here, so the raw-body rules live in one file.
 */
import { ShopifyIngestError } from '../errors.js';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { RawBodyUnavailableError } from '../webhooks/errors.js';
import type { WebhookCore, WebhookRequestInput, WebhookResult } from '../webhooks/handler.js';
import { BodyTooLargeError } from '../webhooks/read-body.js';

/** A Node request as frameworks leave it: maybe with `rawBody` or a `body` set by a parser. */
export type NodeRequestLike = IncomingMessage & {
  /** A body a framework parsed or buffered. */
  body?: unknown;
  /** Raw bytes a framework kept (`captureRawBody`). */
  rawBody?: unknown;
  /** Express's URL before mounting. */
  originalUrl?: string;
};

/** Says how to mount the route when a parser consumed the body (framework-specific). */
export const DEFAULT_MOUNT_HINT =
  'Mount the webhook route before any JSON body parser, or hand it the raw bytes: in Express use express.raw({ type: "application/json" }) on this route, ' +
  'or express.json({ verify: captureRawBody }) from shopify-ingest/express; in the Next.js Pages Router export const config = { api: { bodyParser: false } }.';

export interface ToWebRequestOptions {
  /** Raw body bytes the caller already holds (e.g. Fastify's buffer parser). */
  body?: Uint8Array | string;
  /** Advice put in the error when only a parsed body is left. */
  mountHint?: string;
}

const isBytes = (v: unknown): v is Uint8Array => v instanceof Uint8Array;

/** The client went away before the end of the body (Node's ECONNRESET "aborted"): nothing to store, nobody to answer. */
const ABORTED = 'WEBHOOK_REQUEST_ABORTED';
const requestAborted = (cause?: unknown) => new ShopifyIngestError(ABORTED, 'request closed before its body was complete', { retryable: true, cause });
/** An error of a request's stream means the request was destroyed: say so with the SDK's code, keeping Node's error as the cause. */
const readFailure = (req: IncomingMessage, error: Error) =>
  req.destroyed || (error as { code?: unknown }).code === 'ECONNRESET' || error.message === 'aborted' ? requestAborted(error) : error;
const isAborted = (error: unknown) => (error as { code?: unknown } | null)?.code === ABORTED;

/**
 * Finds the raw body: explicit `body`, then `req.rawBody`, then `req.body` when it is bytes or a
 * string, else the unread stream (`'stream'`). When the stream was consumed and only a parsed object
 * is left, throws {@link RawBodyUnavailableError} (an HMAC over a re-serialised body can never verify).
 */
function rawBodyOf(req: NodeRequestLike, options: ToWebRequestOptions): Uint8Array | string | 'stream' | null {
  if (options.body !== undefined) return options.body;
  if (isBytes(req.rawBody) || typeof req.rawBody === 'string') return req.rawBody;
  if (isBytes(req.body) || typeof req.body === 'string') return req.body;
  // A parser that skipped the request (Express 4's body-parser sets `req.body = {}` for a type it
  // does not parse) left the stream unread: only a read stream (or body-parser's `_body` mark) means consumed.
  const consumed = req.readableEnded || (req as { _body?: unknown })._body === true;
  if (req.body !== undefined && req.body !== null && consumed) throw new RawBodyUnavailableError(options.mountHint ?? DEFAULT_MOUNT_HINT);
  if (req.readableEnded) {
    if (req.method === 'GET' || req.method === 'HEAD') return null;
    throw new RawBodyUnavailableError(options.mountHint ?? DEFAULT_MOUNT_HINT);
  }
  return 'stream';
}

/**
 * Wraps the request stream with back-pressure. Cancelling (an oversized body) stops reading and
 * discards the rest without destroying the socket, so the 413 still reaches the client.
 */
function nodeStreamToWeb(req: IncomingMessage): ReadableStream<Uint8Array> {
  let finished = false;
  let detach = () => {};
  return new ReadableStream<Uint8Array>({
    start(controller) {
      const onData = (chunk: Buffer) => {
        if (finished) return;
        controller.enqueue(new Uint8Array(chunk.buffer, chunk.byteOffset, chunk.byteLength));
        if ((controller.desiredSize ?? 1) <= 0) req.pause();
      };
      const onEnd = () => { if (!finished) { finished = true; detach(); controller.close(); } };
      const onError = (error: Error) => { if (!finished) { finished = true; detach(); controller.error(readFailure(req, error)); } };
      detach = () => { req.off('data', onData); req.off('end', onEnd); req.off('error', onError); };
      req.on('data', onData);
      req.on('end', onEnd);
      req.on('error', onError);
    },
    pull() {
      req.resume();
    },
    cancel() {
      finished = true;
      detach();
      req.resume();
    },
  }, { highWaterMark: 64 * 1024, size: (chunk) => chunk.byteLength });
}

/**
 * Converts a Node request to a Web `Request` (headers, method, URL, raw body).
 *
 * @example
 * ```ts
 * http.createServer(async (req, res) => {
 *   const response = await handler(toWebRequest(req));
 *   await sendWebResponse(res, response);
 * });
 * ```
 */
export function toWebRequest(req: NodeRequestLike, options: ToWebRequestOptions = {}): Request {
  const headers = new Headers();
  for (const [name, value] of Object.entries(req.headers)) {
    if (value === undefined || name.startsWith(':')) continue;
    if (Array.isArray(value)) for (const v of value) headers.append(name, v);
    else headers.set(name, value);
  }
  const method = req.method ?? 'GET';
  const host = req.headers.host ?? 'localhost';
  const url = new URL(req.originalUrl ?? req.url ?? '/', `http://${host}`);
  const source = method === 'GET' || method === 'HEAD' ? null : rawBodyOf(req, options);
  const body = source === 'stream' ? nodeStreamToWeb(req) : source;
  if (body !== null && !(body instanceof ReadableStream)) headers.delete('content-length');
  return new Request(url, {
    method,
    headers,
    body: body as BodyInit | null,
    // Required by undici for a streamed request body.
    ...(body instanceof ReadableStream ? { duplex: 'half' } : {}),
  } as RequestInit);
}

/** Writes a Web `Response` to a Node response (status, headers, body). */
export async function sendWebResponse(res: ServerResponse, response: Response): Promise<void> {
  res.statusCode = response.status;
  response.headers.forEach((value, name) => res.setHeader(name, value));
  const body = response.body ? Buffer.from(await response.arrayBuffer()) : undefined;
  res.end(body);
}

/** Options of the Node handlers. */
export interface NodeHandlerOptions {
  /** Advice given when a parser consumed the body. */
  mountHint?: string;
  /**
   * Called once with the cause of every 500 this handler answers: a misconfigured mount (a JSON
   * parser consumed the body: `WEBHOOK_RAW_BODY_UNAVAILABLE`) or an unexpected error. Adapters pass
   * the service's `reportError`, so the app's logger sees it, not only Shopify. Not called when the
   * client left mid-body (`WEBHOOK_REQUEST_ABORTED`): nobody is answered.
   */
  onError?: (error: unknown) => void;
}

/** A Node `(req, res)` handler. */
export type NodeHandler = (req: IncomingMessage, res: ServerResponse, body?: Uint8Array | string) => Promise<void>;

/**
 * Turns a Web handler into a Node `(req, res)` handler. A consumed body is answered 500 with a
 * message that says how to mount the route, instead of a misleading 401.
 *
 * @example
 * ```ts
 * import { createServer } from 'node:http';
 * createServer(createNodeHandler(webhooks.handler)).listen(3000);
 * ```
 */
export function createNodeHandler(handler: (request: Request) => Promise<Response>, options: NodeHandlerOptions = {}): NodeHandler {
  return async (req, res, body) => {
    let response: Response;
    try {
      const request = toWebRequest(req as NodeRequestLike, { mountHint: options.mountHint, body });
      response = await handler(request);
    } catch (error) {
      if (!isAborted(error)) options.onError?.(error);
      if (error instanceof RawBodyUnavailableError) {
        response = new Response(error.message, { status: 500, headers: { 'content-type': 'text/plain; charset=utf-8' } });
      } else {
        response = new Response('Internal Server Error', { status: 500, headers: { 'content-type': 'text/plain; charset=utf-8' } });
      }
    }
    await sendWebResponse(res, response);
  };
}

const utf8Encoder = new TextEncoder();

/**
 * Reads a Node request body into one buffer, stopping as soon as it passes `limit` bytes: the rest is
 * discarded (not buffered) without destroying the socket, so the 413 still reaches the client.
 */
function readNodeBody(req: IncomingMessage, limit: number): Promise<Uint8Array> {
  return new Promise((resolve, reject) => {
    if (req.destroyed) { reject(requestAborted()); return; }
    const chunks: Buffer[] = [];
    let size = 0;
    const detach = () => {
      req.off('data', onData);
      req.off('end', onEnd);
      req.off('error', onError);
      req.off('close', onClose);
    };
    function onData(chunk: Buffer) {
      size += chunk.byteLength;
      if (size > limit) {
        detach();
        req.resume();
        reject(new BodyTooLargeError(limit));
        return;
      }
      chunks.push(chunk);
    }
    function onEnd() {
      detach();
      resolve(chunks.length === 1 ? chunks[0]! : Buffer.concat(chunks, size));
    }
    // Node emits `error` (ECONNRESET "aborted") before `close` when the client drops mid-body.
    function onError(error: Error) {
      detach();
      reject(readFailure(req, error));
    }
    function onClose() {
      detach();
      reject(requestAborted());
    }
    req.on('data', onData);
    req.on('end', onEnd);
    req.on('error', onError);
    req.on('close', onClose);
  });
}

/** The core's view of a Node request, reading the raw bytes straight from the socket or where a framework left them. */
function nodeInput(req: NodeRequestLike, options: ToWebRequestOptions): WebhookRequestInput {
  const method = req.method ?? 'GET';
  const source = method === 'GET' || method === 'HEAD' ? null : rawBodyOf(req, options);
  const length = req.headers['content-length'];
  return {
    method,
    header: (name) => {
      const value = req.headers[name];
      return Array.isArray(value) ? value.join(', ') : value;
    },
    // Only a body still on the wire is limited by its declaration; bytes a framework decoded are measured.
    declaredLength: source === 'stream' && length !== undefined ? Number(length) : undefined,
    async readBody(limit) {
      if (source === 'stream') return readNodeBody(req, limit);
      const bytes = source === null ? new Uint8Array(0) : typeof source === 'string' ? utf8Encoder.encode(source) : source;
      if (bytes.byteLength > limit) throw new BodyTooLargeError(limit);
      return bytes;
    },
    discardBody() {
      if (source === 'stream') req.resume();
    },
  };
}

function sendResult(res: ServerResponse, result: WebhookResult): void {
  res.writeHead(result.status, result.headers);
  res.end(result.body);
}

/**
 * Serves a webhook core (`webhooks.handleDelivery`) as a Node `(req, res)` handler without building a
 * Web `Request`: headers are read from `req.headers` and the body straight from the socket (or from
 * where a framework kept the raw bytes). Same answers as {@link createNodeHandler} over the Web
 * handler, for much less CPU per delivery (bench/webhooks.ts). A consumed body is answered 500 with
 * a message that says how to mount the route.
 *
 * @example
 * ```ts
 * import { createServer } from 'node:http';
 * createServer(createNodeWebhookHandler(webhooks.handleDelivery)).listen(3000);
 * ```
 */
export function createNodeWebhookHandler(core: WebhookCore, options: NodeHandlerOptions = {}): NodeHandler {
  return async (req, res, body) => {
    let result: WebhookResult;
    try {
      result = await core(nodeInput(req as NodeRequestLike, { mountHint: options.mountHint, body }));
    } catch (error) {
      if (!isAborted(error)) options.onError?.(error);
      if (error instanceof RawBodyUnavailableError) {
        result = { status: 500, headers: { 'content-type': 'text/plain; charset=utf-8' }, body: error.message };
      } else {
        result = { status: 500, headers: { 'content-type': 'text/plain; charset=utf-8' }, body: 'Internal Server Error' };
      }
    }
    sendResult(res, result);
  };
}

/** What Node adapters need from a webhook service (a `createWebhookService()` result fits). */
export interface NodeWebhookEndpoint {
  /** The Web-standard endpoint. */
  handler: (request: Request) => Promise<Response>;
  /** The same endpoint without a transport; when present, Node adapters call it directly (no Web `Request`). */
  handleDelivery?: WebhookCore;
  /** Logs the cause of a 500 the adapter answers (a `createWebhookService()` result logs it with its logger). */
  reportError?: (error: unknown) => void;
}

/**
 * The Node `(req, res)` handler of an endpoint: the direct path through `handleDelivery` when the
 * endpoint has one, else the Web handler through {@link createNodeHandler}.
 *
 * @example
 * ```ts
 * const handle = nodeHandlerFor(webhooks, { mountHint: 'register the route before express.json()' });
 * ```
 */
export function nodeHandlerFor(endpoint: NodeWebhookEndpoint, options: NodeHandlerOptions = {}): NodeHandler {
  if (!options.onError && endpoint.reportError) options = { ...options, onError: (error) => endpoint.reportError!(error) };
  return endpoint.handleDelivery ? createNodeWebhookHandler(endpoint.handleDelivery, options) : createNodeHandler(endpoint.handler, options);
}
