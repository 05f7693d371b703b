/**
 * `shopify-ingest doctor`: what needs attention, per tenant. Credentials (kind, expiry, needs
 * re-authorisation), scopes granted against those the enabled resources need, the last successful
 * sync per resource, the webhook inbox (waiting, dead letters), and what Shopify said about the API
 * calls (another version answered: the requested one is no longer supported; deprecations used).
 * Reads the database only; no call to Shopify.
 */
import { RESOURCES } from '../resources/registry.js';
import { enabledResources } from '../resources/tenant-resources.js';
import type { DoctorTenantFacts } from '../store/doctor.js';

/** One finding: `problem` needs action, `warning` soon will, `info` is for the record. */
export interface DoctorFinding {
  severity: 'problem' | 'warning' | 'info';
  /** What it is about: `credentials`, `scopes`, `sync`, `inbox`, `api`. */
  area: 'credentials' | 'scopes' | 'sync' | 'inbox' | 'api' | 'webhooks';
  message: string;
}

/** The report of one tenant. */
export interface DoctorTenantReport {
  tenantId: string;
  shopDomain: string;
  isActive: boolean;
  token: { kind: string; present: boolean; authStatus: string; accessTokenExpiresAt: string | null; refreshTokenExpiresAt: string | null };
  scopes: { granted: string[] | null; needed: string[]; missing: string[] };
  apiVersion: { requested: string; answeredBy: string[] };
  syncs: Array<{ resource: string; enabled: boolean; lastSuccessAt: string | null; lastStatus: string | null; lastError: string | null }>;
  inbox: { waiting: number; oldestWaitingAt: string | null; deadLetters: number };
  notices: Array<{ kind: string; requestedVersion: string; servedVersion: string | null; reason: string | null; request: string; firstSeenAt: string; lastSeenAt: string; sightings: number }>;
  /** Webhook subscription drift, when asked for (`--subscriptions`: a call to Shopify per tenant). */
  subscriptions?: { inSync: boolean; missing: string[]; mismatched: string[]; extra: string[]; error?: string };
  findings: DoctorFinding[];
}

/** What `verifyWebhookSubscriptions` (without repair) found for a tenant, or why it could not look. */
export type SubscriptionDrift = { inSync: boolean; missing: string[]; mismatched: Array<{ topic: string; problems: string[] }>; extra: Array<{ topic: string }> } | { error: string };

/** Adds the subscription drift of a tenant to its report. */
export function withSubscriptionDrift(report: DoctorTenantReport, drift: SubscriptionDrift): DoctorTenantReport {
  if ('error' in drift) {
    return { ...report, subscriptions: { inSync: false, missing: [], mismatched: [], extra: [], error: drift.error }, findings: [...report.findings, { severity: 'warning', area: 'webhooks', message: `subscriptions not checked: ${drift.error}` }] };
  }
  const findings = [...report.findings];
  if (drift.missing.length) findings.push({ severity: 'problem', area: 'webhooks', message: `not subscribed: ${drift.missing.join(', ')} (verifyWebhookSubscriptions(tenantId, { repair: true }))` });
  const wrong = (problem: string) => drift.mismatched.filter((m) => m.problems.includes(problem)).map((m) => m.topic);
  // includeFields / filter: trimmed or filtered deliveries, which the SDK would store as incomplete records.
  for (const problem of ['uri', 'format', 'includeFields', 'filter']) {
    if (wrong(problem).length) findings.push({ severity: 'problem', area: 'webhooks', message: `wrong ${problem}: ${wrong(problem).join(', ')} (verifyWebhookSubscriptions(tenantId, { repair: true }))` });
  }
  // The API version of deliveries is the app's webhook version, not a subscription's: reported, not repairable here.
  if (wrong('apiVersion').length) findings.push({ severity: 'warning', area: 'webhooks', message: `delivered in another API version than the SDK's (the app's webhook API version): ${wrong('apiVersion').join(', ')}` });
  if (drift.extra.length) findings.push({ severity: 'warning', area: 'webhooks', message: `subscribed but not handled: ${drift.extra.map((e) => e.topic).join(', ')}` });
  return { ...report, subscriptions: { inSync: drift.inSync, missing: drift.missing, mismatched: drift.mismatched.map((m) => m.topic), extra: drift.extra.map((e) => e.topic) }, findings };
}

const DAY = 86_400_000;

/** Scopes granted, with `write_x` granting `read_x` as Shopify does (https://shopify.dev/docs/api/usage/access-scopes). */
function grantedScopes(scopes: string | null): Set<string> | null {
  if (scopes === null) return null;
  const granted = new Set(scopes.split(',').map((s) => s.trim()).filter(Boolean));
  for (const scope of [...granted]) if (scope.startsWith('write_')) granted.add(`read_${scope.slice(6)}`);
  return granted;
}

/** Builds a tenant's report from its facts; `defaultApiVersion` is the SDK instance's. */
export function doctorReport(facts: DoctorTenantFacts, options: { now: Date; defaultApiVersion: string; staleAfterMs?: number }): DoctorTenantReport {
  const { now } = options;
  const findings: DoctorFinding[] = [];
  const iso = (d: Date | null) => (d ? d.toISOString() : null);
  const ago = (d: Date) => humanDuration(now.getTime() - d.getTime());

  // Credentials
  if (!facts.isActive) findings.push({ severity: 'info', area: 'credentials', message: 'inactive (removed, uninstalled or redacted): nothing is synced' });
  else if (facts.authStatus === 'needs_reauth') findings.push({ severity: 'problem', area: 'credentials', message: `needs re-authorisation: ${facts.authError ?? 'the token cannot be renewed'} (updateTenant with new credentials)` });
  else if (!facts.hasToken) findings.push({ severity: 'problem', area: 'credentials', message: 'no access token stored' });
  if (facts.isActive && facts.tokenKind === 'static') {
    findings.push({ severity: 'warning', area: 'credentials', message: 'static (non-expiring) token: Shopify refuses public apps\' non-expiring offline tokens from 2027-01-01; use expiring tokens (session token exchange) unless this is a custom app' });
  }
  if (facts.isActive && facts.refreshTokenExpiresAt && facts.refreshTokenExpiresAt.getTime() - now.getTime() < 7 * DAY) {
    const left = facts.refreshTokenExpiresAt.getTime() - now.getTime();
    findings.push({ severity: left <= 0 ? 'problem' : 'warning', area: 'credentials', message: left <= 0 ? 'refresh token expired: the merchant must open the app again' : `refresh token expires in ${humanDuration(left)}` });
  }

  // Scopes
  const enabled = new Set<string>(enabledResources(facts.config));
  const needed = [...new Set(RESOURCES.filter((r) => enabled.has(r.name)).flatMap((r) => [...r.scopes]))].sort();
  const granted = grantedScopes(facts.scopes);
  const missing = granted ? needed.filter((s) => !granted.has(s)) : [];
  if (granted === null) findings.push({ severity: 'info', area: 'scopes', message: 'granted scopes unknown (set when a token is obtained or exchanged)' });
  else if (missing.length) findings.push({ severity: 'problem', area: 'scopes', message: `missing ${missing.join(', ')} (needed by the enabled resources)` });

  // Syncs
  const staleAfter = options.staleAfterMs ?? 2 * DAY;
  const syncs = facts.runs.map((r) => ({ resource: r.resource, enabled: enabled.has(r.resource), lastSuccessAt: iso(r.lastSuccessAt), lastStatus: r.lastStatus, lastError: r.lastError }));
  if (facts.isActive) {
    for (const r of facts.runs) {
      if (!enabled.has(r.resource)) continue;
      if (r.lastStatus === 'failed') findings.push({ severity: 'problem', area: 'sync', message: `${r.resource}: last run failed ${r.lastFinishedAt ? ago(r.lastFinishedAt) + ' ago' : ''}: ${r.lastError ?? 'no reason recorded'}` });
      else if (!r.lastSuccessAt) findings.push({ severity: 'warning', area: 'sync', message: `${r.resource}: never synced` });
      else if (now.getTime() - r.lastSuccessAt.getTime() > staleAfter) findings.push({ severity: 'warning', area: 'sync', message: `${r.resource}: last success ${ago(r.lastSuccessAt)} ago` });
    }
  }

  // Inbox
  if (facts.inbox.deadLetters > 0) findings.push({ severity: 'problem', area: 'inbox', message: `${facts.inbox.deadLetters} webhook deliveries out of attempts (dead letters): see \`shopify-ingest webhooks replay\`` });
  if (facts.inbox.oldestWaitingAt && now.getTime() - facts.inbox.oldestWaitingAt.getTime() > 10 * 60_000) {
    findings.push({ severity: 'warning', area: 'inbox', message: `${facts.inbox.waiting} deliveries waiting, the oldest for ${ago(facts.inbox.oldestWaitingAt)}: is a webhook worker running?` });
  }

  // API versions and deprecations
  const requested = typeof facts.config.apiVersion === 'string' ? facts.config.apiVersion : options.defaultApiVersion;
  const answeredBy = [...new Set(facts.notices.filter((n) => n.kind === 'version_mismatch' && n.requestedVersion === requested).map((n) => n.servedVersion ?? '?'))];
  for (const version of answeredBy) findings.push({ severity: 'problem', area: 'api', message: `requested API version ${requested} is no longer supported: Shopify answered with ${version} (upgrade apiVersion)` });
  for (const n of facts.notices.filter((x) => x.kind === 'deprecated')) {
    findings.push({ severity: 'warning', area: 'api', message: `deprecated in ${n.requestedVersion}: ${n.reason} (${n.request}, ${n.sightings}×, last ${ago(n.lastSeenAt)} ago)` });
  }

  return {
    tenantId: facts.id,
    shopDomain: facts.shopDomain,
    isActive: facts.isActive,
    token: { kind: facts.tokenKind, present: facts.hasToken, authStatus: facts.authStatus, accessTokenExpiresAt: iso(facts.accessTokenExpiresAt), refreshTokenExpiresAt: iso(facts.refreshTokenExpiresAt) },
    scopes: { granted: granted ? [...granted].sort() : null, needed, missing },
    apiVersion: { requested, answeredBy },
    syncs,
    inbox: { waiting: facts.inbox.waiting, oldestWaitingAt: iso(facts.inbox.oldestWaitingAt), deadLetters: facts.inbox.deadLetters },
    notices: facts.notices.map((n) => ({ kind: n.kind, requestedVersion: n.requestedVersion, servedVersion: n.servedVersion, reason: n.reason, request: n.request, firstSeenAt: n.firstSeenAt.toISOString(), lastSeenAt: n.lastSeenAt.toISOString(), sightings: n.sightings })),
    findings,
  };
}

/** The report as text, one block per tenant. */
export function renderDoctor(reports: readonly DoctorTenantReport[]): string {
  if (reports.length === 0) return 'no tenants';
  const mark = { problem: '✗', warning: '!', info: '·' } as const;
  return reports.map((r) => {
    const lines = [`${r.tenantId}  ${r.shopDomain}  ${r.isActive ? 'active' : 'inactive'}`];
    const expiry = r.token.accessTokenExpiresAt ? `, access token until ${r.token.accessTokenExpiresAt}` : '';
    lines.push(`  token     ${r.token.kind}${expiry}${r.token.authStatus === 'ok' ? '' : ` (${r.token.authStatus})`}`);
    lines.push(`  scopes    needed ${r.scopes.needed.join(', ') || 'none'}${r.scopes.missing.length ? `; missing ${r.scopes.missing.join(', ')}` : r.scopes.granted ? '; all granted' : ''}`);
    lines.push(`  api       ${r.apiVersion.requested}${r.apiVersion.answeredBy.length ? ` (answered by ${r.apiVersion.answeredBy.join(', ')})` : ''}`);
    lines.push(`  syncs     ${r.syncs.filter((s) => s.enabled).map((s) => `${s.resource} ${s.lastSuccessAt ? `ok ${s.lastSuccessAt}` : 'never'}${s.lastStatus === 'failed' ? ' (last failed)' : ''}`).join(' · ')}`);
    lines.push(`  inbox     ${r.inbox.waiting} waiting, ${r.inbox.deadLetters} dead letters`);
    if (r.subscriptions) lines.push(`  webhooks  ${r.subscriptions.error ? 'not checked' : r.subscriptions.inSync ? 'subscriptions in sync' : `${r.subscriptions.missing.length} missing, ${r.subscriptions.mismatched.length} wrong, ${r.subscriptions.extra.length} extra`}`);
    for (const f of r.findings) lines.push(`  ${mark[f.severity]} ${f.area}: ${f.message}`);
    if (!r.findings.some((f) => f.severity !== 'info')) lines.push('  ✓ nothing needs attention');
    return lines.join('\n');
  }).join('\n\n');
}

function humanDuration(ms: number): string {
  const abs = Math.abs(ms);
  if (abs < 60_000) return `${Math.round(abs / 1000)}s`;
  if (abs < 3_600_000) return `${Math.round(abs / 60_000)}m`;
  if (abs < DAY) return `${Math.round(abs / 3_600_000)}h`;
  return `${Math.round(abs / DAY)}d`;
}
