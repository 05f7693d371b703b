/**
 * Columns of the synced tables that record how a row was written, not what Shopify holds: the
 * tenant, when it was written (`synced_at`), the bulk operation that wrote it (`sync_tag`) and when
 * its version was observed (`observed_at`: a read's start or a webhook's trigger time). Left out
 * wherever two tenants', sources' or runs' rows are compared.
 */
export const BOOKKEEPING_COLUMNS: readonly string[] = ['tenant_id', 'synced_at', 'sync_tag', 'observed_at'];
