/**
 * What Shopify says about a call besides its answer: which API version answered, and which
 * deprecations the call uses. The client reports each to `onApiNotice`; the facade records them per
 * tenant (store/api-notices.ts) for `shopify-ingest doctor`.
 */

/**
 * One thing Shopify said about a call.
 * @internal
 */
export interface ApiNotice {
  /** `version_mismatch`: another version answered; `deprecated`: the call uses deprecated fields or endpoints. */
  kind: 'version_mismatch' | 'deprecated';
  /** The version the client asked for. */
  requestedVersion: string;
  /** `X-Shopify-API-Version` of the answer. */
  servedVersion: string | null;
  /** `X-Shopify-API-Deprecated-Reason` (deprecated), else null. */
  reason: string | null;
  /** The request, e.g. `POST /graphql.json`. */
  request: string;
}
