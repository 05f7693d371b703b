import { createAuthenticator, type AuthOptions, type AuthPrincipal, type HeaderSource } from './authenticate.js';

/**
 * The body of every 401: no hint about what was wrong.
 *
 * @example
 * ```ts
 * res.status(401).type('json').send(UNAUTHORIZED_BODY);
 * ```
 */
export const UNAUTHORIZED_BODY = '{"error":"unauthorized"}';

/**
 * A 401 Fetch API response with the body `{ "error": "unauthorized" }`.
 *
 * @example
 * ```ts
 * if (!guard.authenticate(request).ok) return unauthorizedResponse();
 * ```
 */
export function unauthorizedResponse(): Response {
  return new Response(UNAUTHORIZED_BODY, { status: 401, headers: { 'content-type': 'application/json', 'www-authenticate': 'Bearer' } });
}

/** The request side of Express, Node's http and Fastify: only headers are read. */
export interface AuthRequestLike {
  /** Request headers. */
  headers: HeaderSource;
  /** Set on success. */
  shopifyIngestAuth?: AuthPrincipal;
}

/** The response side: Express/Node (`statusCode`, `setHeader`, `end`) or a Fastify reply (`code`, `header`, `send`). */
export interface AuthResponseLike {
  /** Node's status property. */
  statusCode?: number;
  /** Node's `res.setHeader`. */
  setHeader?(name: string, value: string): unknown;
  /** Node's `res.end`. */
  end?(body?: string): unknown;
  /** Fastify's `reply.code`. */
  code?(status: number): unknown;
  /** Fastify's `reply.header`. */
  header?(name: string, value: string): unknown;
  /** Fastify's / Express's body sender. */
  send?(body?: unknown): unknown;
}

/** `(req, res, next)` middleware; also usable as a Fastify `preHandler` hook. */
export type AuthMiddleware = (req: AuthRequestLike, res: AuthResponseLike, next: () => void) => void;

/** The body of a 403: an authenticated caller asked for a tenant that is not its shop's. */
export const FORBIDDEN_BODY = '{"error":"forbidden"}';

/** Answers 401 (no credentials that pass) or 403 (not this caller's tenant) on Express/Node or Fastify. */
export function writeRefusal(res: AuthResponseLike, status: 401 | 403): void {
  const body = status === 401 ? UNAUTHORIZED_BODY : FORBIDDEN_BODY;
  // A Fastify reply has code/send and no writable Node response of its own.
  if (typeof res.code === 'function' && typeof res.send === 'function' && typeof res.setHeader !== 'function') {
    res.code(status);
    res.header?.('content-type', 'application/json');
    if (status === 401) res.header?.('www-authenticate', 'Bearer');
    res.send(body);
    return;
  }
  res.statusCode = status;
  res.setHeader?.('content-type', 'application/json');
  if (status === 401) res.setHeader?.('www-authenticate', 'Bearer');
  res.end?.(body);
}

/**
 * Protects the host's sync endpoints with Shopify session tokens and/or static API keys.
 * On success the principal is on `req.shopifyIngestAuth` and `next()` is called; otherwise the
 * response is `401 {"error":"unauthorized"}` with no detail.
 *
 * @example
 * ```ts
 * const auth = createAuthMiddleware({ apiKeys: [process.env.OPS_KEY!] }); // or () with SHOPIFY_API_KEY/SECRET set
 * app.post('/api/shopify/sync/:tenantId', auth, async (req, res) => {
 *   res.json({ by: req.shopifyIngestAuth });
 * });
 * ```
 */
export function createAuthMiddleware(options: AuthOptions = {}): AuthMiddleware {
  const authenticate = createAuthenticator(options);
  return (req, res, next) => {
    const result = authenticate(req.headers ?? {});
    if (!result.ok) return writeRefusal(res, 401);
    req.shopifyIngestAuth = result.principal;
    next();
  };
}

/** A guard for Fetch API handlers (Next.js route handlers, Hono, Bun, Deno). */
export interface WebAuthGuard {
  /** Authenticates a request. */
  authenticate(request: Request): ReturnType<ReturnType<typeof createAuthenticator>>;
  /** Wraps a handler: 401 unless authenticated; the principal is available via `principalOf(request)`. */
  protect<A extends unknown[]>(handler: (request: Request, ...args: A) => Response | Promise<Response>): (request: Request, ...args: A) => Promise<Response>;
  /** The principal of a request that passed `protect`. */
  principalOf(request: Request): AuthPrincipal | undefined;
}

/**
 * The Fetch API variant of {@link createAuthMiddleware}.
 *
 * @example
 * ```ts
 * // app/api/shopify/sync/route.ts
 * const guard = createWebAuthGuard();
 * export const POST = guard.protect(async (request) => Response.json({ shop: guard.principalOf(request) }));
 * ```
 */
export function createWebAuthGuard(options: AuthOptions = {}): WebAuthGuard {
  const authenticate = createAuthenticator(options);
  const principals = new WeakMap<Request, AuthPrincipal>();
  return {
    authenticate: (request) => authenticate(request.headers),
    protect: (handler) => async (request, ...args) => {
      const result = authenticate(request.headers);
      if (!result.ok) return unauthorizedResponse();
      principals.set(request, result.principal);
      return handler(request, ...args);
    },
    principalOf: (request) => principals.get(request),
  };
}
