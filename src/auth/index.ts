/**
 * Authentication of the host's sync endpoints: Shopify session tokens and static API keys.
 * @module auth
 */
export { createAuthMiddleware, createWebAuthGuard, unauthorizedResponse, UNAUTHORIZED_BODY } from './middleware.js';
export type { AuthMiddleware, AuthRequestLike, AuthResponseLike, WebAuthGuard } from './middleware.js';
export { authenticateRequest, createAuthenticator } from './authenticate.js';
export type { AuthOptions, AuthPrincipal, AuthResult, Authenticator, HeaderSource } from './authenticate.js';
export { verifySessionToken, signSessionToken } from './session-token.js';
export type { SessionTokenClaims, SessionTokenOptions, SessionTokenResult, SessionTokenFailure } from './session-token.js';
export { createApiKeySet } from './api-keys.js';
export type { ApiKeySet } from './api-keys.js';
