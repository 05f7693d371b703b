import { isResourceName, RESOURCE_NAMES, type ResourceName } from '../resources/registry.js';
import { createDatabase, createDatabaseHandle, explainDatabaseError } from '../store/index.js';
import { createIngestionService, type DataType, type IngestionService } from '../service.js';
import type { ImportAllResult, ImportResult } from '../importer/index.js';
import { createJsonLogger } from '../logger.js';
import { listOutstandingFailures } from '../store/failures.js';
import type { PrismaLike } from '../store/prisma-like.js';
import { createProgress } from './progress.js';
import { EXIT, UsageError } from './exit.js';
import { cliLogLevel, databaseFlags } from './spec.js';
import { doctorReport, renderDoctor, withSubscriptionDrift, type DoctorTenantReport } from './doctor.js';
import { readDoctorFacts } from '../store/doctor.js';
import { loadConfig } from '../config/index.js';
import type { CliContext } from './context.js';

export type { CliContext } from './context.js';

type Values = Record<string, string | boolean | undefined>;

function intOption(values: Values, name: string, fallback?: number): number | undefined {
  const raw = values[name];
  if (raw === undefined) return fallback;
  const n = Number(raw);
  if (!Number.isInteger(n) || n < 0) throw new UsageError(`--${name} must be a whole number (got ${String(raw)})`);
  return n;
}

function resourceOption(values: Values): string | undefined {
  const resource = values.resource as string | undefined;
  if (resource !== undefined && !isResourceName(resource)) throw new UsageError(`--resource must be one of ${RESOURCE_NAMES.join(', ')} (got ${resource})`);
  return resource;
}

function toJson(data: unknown): string {
  return JSON.stringify(data, (_k, v) => (typeof v === 'bigint' ? v.toString() : v));
}

/** Prints `human`, or with `--json` one JSON object: `ok` (true unless `data` says) and `data`'s fields. */
function print(ctx: CliContext, human: string, data: { ok?: boolean; [field: string]: unknown }): void {
  ctx.stdout.write(ctx.json ? `${toJson({ ok: true, ...data })}\n` : `${human}\n`);
}

async function databaseOf(values: Values, ctx: CliContext, options: { migrate?: boolean } = {}) {
  // --data-dir wins over an exported DATABASE_URL (createDatabase alone prefers the URL); with --database-url it is a usage error.
  const target = databaseFlags(values, ctx.env);
  try {
    return await createDatabase({ ...target, ...options });
  } catch (error) {
    // Prisma's bare "Database `x` does not exist on the database server" says neither where it came from nor what to check.
    throw explainDatabaseError(error, 'connect');
  }
}

/** Opens the database and a service that neither schedules nor listens (one-shot commands). */
async function openService(values: Values, ctx: CliContext, options: { progress?: boolean; checkEncryptionKey?: boolean } = {}): Promise<{ service: IngestionService; prisma: PrismaLike; close(): Promise<void> }> {
  const logger = createJsonLogger({ level: cliLogLevel(ctx.env), write: (line) => ctx.stderr.write(`${line}\n`) });
  const prisma = await databaseOf(values, ctx);
  // With --json, progress events are JSON lines on stdout before the result line; otherwise text on stderr.
  const renderer = options.progress ? createProgress({ stream: ctx.json ? ctx.stdout : ctx.stderr, json: ctx.json, env: ctx.env }) : undefined;
  // The client's own pool carries the batch writes (COPY); without one (embedded), Prisma does.
  const service = createIngestionService(createDatabaseHandle(prisma, { pool: prisma.pool, logger }), {
    env: ctx.env,
    logger,
    scheduler: { enabled: false, distributed: false },
    webhooks: { enabled: false },
    healthCheckIntervalMs: 0,
    ...(options.checkEncryptionKey === false ? { checkEncryptionKey: false } : {}),
    onProgress: renderer
      ? (e) => {
        const line = { label: `${e.tenantId} ${e.resource}`, done: e.fetched, total: e.total, ratePerSecond: e.ratePerSecond, extra: `imported ${e.imported} skipped ${e.skipped} failed ${e.failed}` };
        if (e.done) renderer.finish(`${e.tenantId}/${e.resource}`, line);
        else renderer.update(`${e.tenantId}/${e.resource}`, line);
      }
      : undefined,
  });
  try {
    await service.initialize();
  } catch (error) {
    await prisma.$disconnect().catch(() => {});
    throw error;
  }
  return {
    service,
    prisma,
    async close() {
      renderer?.close();
      await service.shutdown({ timeoutMs: 10_000 });
      await prisma.$disconnect();
    },
  };
}

function resultsOf(result: ImportResult | ImportAllResult): ImportResult[] {
  return 'runId' in result ? [result as ImportResult] : Object.values(result as ImportAllResult);
}

/** Runs of an import that threw: an aborted or partly failed `all` still carries its per-resource results. */
function resultsOfError(error: unknown): ImportResult[] {
  const e = error as { result?: ImportResult; details?: { results?: ImportAllResult } };
  if (e?.result) return [e.result];
  return e?.details?.results ? Object.values(e.details.results) : [];
}

function runLine(r: ImportResult): string {
  return `${r.resource.padEnd(10)} ${r.status.padEnd(10)} fetched ${r.fetched} imported ${r.imported} skipped ${r.skipped} failed ${r.failed} deleted ${r.deleted} (${(r.durationMs / 1000).toFixed(1)} s)${r.error ? ` error: ${r.error}` : ''}`;
}

/** Where failed records are and what to do about them, for a human. */
function failuresHint(tenantId: string, runs: ImportResult[]): string {
  const failed = runs.filter((r) => r.failed > 0);
  const total = failed.reduce((n, r) => n + r.failed, 0);
  return `\n${total} record(s) could not be imported (${failed.map((r) => `${r.resource}: ${r.failed} in run ${r.runId}`).join(', ')}).\n`
    + `  They are in the shopify_sync_failures table. List them:  shopify-ingest failures --tenant ${tenantId}\n`
    + `  Fetch and import them again:                             shopify-ingest retry-failures --tenant ${tenantId}`;
}

async function sync(args: string[], values: Values, ctx: CliContext): Promise<number> {
  const [tenantId, positional] = args;
  if (!tenantId) throw new UsageError('sync: which tenant? shopify-ingest sync <tenant> [resource]');
  const listed = typeof values.resources === 'string' ? values.resources.split(',').map((r) => r.trim()).filter(Boolean) : undefined;
  if (listed && positional) throw new UsageError('sync: give the resource as an argument or --resources, not both');
  if (listed && listed.length === 0) throw new UsageError('--resources needs at least one resource');
  const asked = listed ?? [positional ?? 'all'];
  for (const name of asked) {
    if (name !== 'all' && !isResourceName(name)) throw new UsageError(`sync: unknown resource ${name} (one of ${RESOURCE_NAMES.join(', ')}, or all)`);
  }
  // Several resources run in the registry's order (dependencies first), each once.
  const targets: DataType[] = asked.includes('all') ? ['all'] : RESOURCE_NAMES.filter((name) => asked.includes(name));
  const resource = targets.length === 1 ? targets[0] : targets.join(',');
  const mode = values.mode as string | undefined;
  if (mode && !['full', 'incremental', 'auto'].includes(mode)) throw new UsageError('--mode must be full, incremental or auto');
  const wait = intOption(values, 'wait');
  const source = values.source as string | undefined;
  if (source !== undefined && source !== 'graphql' && source !== 'rest') throw new UsageError('--source must be graphql or rest');
  const options = {
    ...(source ? { source: source as 'graphql' | 'rest' } : {}),
    mode: mode as 'full' | undefined,
    dryRun: Boolean(values['dry-run']),
    batchSize: intOption(values, 'batch-size'),
    concurrency: intOption(values, 'concurrency'),
    waitForLockMs: wait === undefined ? undefined : wait * 1000,
    signal: ctx.signal,
  };
  const { service, close } = await openService(values, ctx, { progress: true });
  try {
    let runs: ImportResult[] = [];
    try {
      for (const target of targets) runs.push(...resultsOf(await service.importData(tenantId, target, options)));
    } catch (error) {
      if (!ctx.signal?.aborted) throw error;
      runs = [...runs, ...resultsOfError(error)];
      const cancelled = runs.filter((r) => r.status === 'cancelled');
      const text = `interrupted: ${cancelled.map((r) => `${r.resource} run ${r.runId}`).join(', ') || 'the sync'} recorded as cancelled; its checkpoint is kept, so \`shopify-ingest sync ${tenantId}${resource === 'all' ? '' : targets.length > 1 ? ` --resources ${resource}` : ` ${resource}`}\` resumes it`;
      if (ctx.json) ctx.stdout.write(`${toJson({ type: 'result', ok: false, interrupted: true, runs })}\n`);
      else ctx.stderr.write(`${runs.map(runLine).join('\n')}${runs.length ? '\n' : ''}${text}\n`);
      return EXIT.interrupted;
    }
    const ok = runs.every((r) => r.status === 'succeeded');
    if (ctx.json) ctx.stdout.write(`${toJson({ type: 'result', ok, runs })}\n`);
    else ctx.stdout.write(`${runs.map(runLine).join('\n')}\n`);
    if (!ok) return EXIT.failed;
    if (runs.some((r) => r.failed > 0)) {
      if (!ctx.json) ctx.stderr.write(`${failuresHint(tenantId, runs)}\n`);
      return EXIT.partial;
    }
    return EXIT.ok;
  } finally {
    await close();
  }
}

/** `doctor --subscriptions`: each active tenant's subscription drift, asked of Shopify (nothing repaired). */
async function withSubscriptions(reports: DoctorTenantReport[], values: Values, ctx: CliContext): Promise<DoctorTenantReport[]> {
  const { service, close } = await openService(values, ctx);
  try {
    const out: DoctorTenantReport[] = [];
    for (const report of reports) {
      if (!report.isActive) { out.push(report); continue; }
      const drift = await service.verifyWebhookSubscriptions(report.tenantId).catch((error: unknown) => ({ error: error instanceof Error ? error.message.replace(/^\[shopify-ingest\] /, '') : String(error) }));
      out.push(withSubscriptionDrift(report, drift));
    }
    return out;
  } finally {
    await close();
  }
}

async function failures(values: Values, ctx: CliContext): Promise<number> {
  const prisma = await databaseOf(values, ctx);
  try {
    const rows = await listOutstandingFailures(prisma, { tenantId: values.tenant as string | undefined, resource: resourceOption(values), limit: intOption(values, 'limit', 100) });
    const human = rows.length === 0
      ? 'no outstanding failures'
      : [
        `${'tenant'.padEnd(16)} ${'resource'.padEnd(9)} ${'shopify id'.padEnd(20)} ${'run'.padEnd(27)} ${'when'.padEnd(24)} reason`,
        ...rows.map((f) => `${f.tenantId.padEnd(16)} ${f.resource.padEnd(9)} ${(f.shopifyId?.toString() ?? '(no id)').padEnd(20)} ${f.runId.padEnd(27)} ${f.createdAt.toISOString().padEnd(24)} ${f.reason.split('\n')[0]}`),
        '',
        `${rows.length} record(s). Fetch and import them again: shopify-ingest retry-failures${values.tenant ? ` --tenant ${String(values.tenant)}` : ''}${values.resource ? ` --resource ${String(values.resource)}` : ''}`,
      ].join('\n');
    print(ctx, human, { failures: rows });
    return EXIT.ok;
  } finally {
    await prisma.$disconnect();
  }
}

async function retry(values: Values, ctx: CliContext): Promise<number> {
  const resource = resourceOption(values);
  const { service, prisma, close } = await openService(values, ctx);
  try {
    const { retryFailures } = await import('./retry-failures.js');
    const outcomes = await retryFailures(service, prisma, { tenantId: values.tenant as string | undefined, resource, signal: ctx.signal });
    const failed = outcomes.reduce((n, o) => n + o.failed + o.withoutId, 0);
    const human = outcomes.length === 0
      ? 'no outstanding failures to retry'
      : outcomes.map((o) => `${o.tenantId} ${o.resource}: ${o.retried} retried, ${o.imported} imported, ${o.failed} failed again, ${o.gone} gone from Shopify${o.withoutId ? `, ${o.withoutId} without an id (cannot be fetched)` : ''} (run ${o.runId})`).join('\n')
        + (failed > 0 ? `\nStill failing: shopify-ingest failures${values.tenant ? ` --tenant ${String(values.tenant)}` : ''}` : '');
    print(ctx, human, { ok: failed === 0, outcomes });
    if (ctx.signal?.aborted) return EXIT.interrupted;
    return failed > 0 ? EXIT.partial : EXIT.ok;
  } finally {
    await close();
  }
}

/** `webhooks toml`: the [webhooks] block of shopify.app.toml for the enabled resources. */
async function webhooksTomlCommand(values: Values, ctx: CliContext): Promise<number> {
  const uri = values.uri as string | undefined;
  if (!uri) throw new UsageError('webhooks toml --uri <https://your.app/api/webhooks/shopify> [--resources customers,orders] [--api-version YYYY-MM]');
  const resources = values.resources === undefined ? undefined : String(values.resources).split(',').map((r) => r.trim()).filter(Boolean);
  for (const r of resources ?? []) if (!isResourceName(r)) throw new UsageError(`--resources: unknown resource ${r} (one of ${RESOURCE_NAMES.join(', ')})`);
  const { webhooksToml } = await import('../webhooks/app-toml.js');
  const text = webhooksToml({
    uri,
    apiVersion: (values['api-version'] as string | undefined) ?? ctx.env.SHOPIFY_API_VERSION,
    resources: resources as ResourceName[] | undefined,
    header: 'Generated by `npx shopify-ingest webhooks toml`. Paste into shopify.app.toml, then `shopify app deploy`.',
  });
  if (ctx.json) ctx.stdout.write(`${JSON.stringify({ ok: true, toml: text })}\n`);
  else ctx.stdout.write(text);
  return EXIT.ok;
}

/** Runs one command; returns the exit code. */
export async function runCommand(positionals: string[], values: Values, ctx: CliContext): Promise<number> {
  const [command, ...args] = positionals;
  switch (command) {
    case 'demo': {
      const { runDemo } = await import('./demo.js');
      return runDemo({ ctx, values });
    }
    case 'migrate': {
      const prisma = await databaseOf(values, ctx, { migrate: false });
      try {
        const { migrate } = await import('../store/index.js');
        // createDatabase({ migrate: false }) connects lazily: an unusable database shows here.
        const result = await migrate(prisma).catch((error: unknown) => { throw explainDatabaseError(error, 'migrate'); });
        const unknown = result.unknown ?? [];
        if (unknown.length) {
          // migrate() only logs this, and this command gives it no logger: say it where it cannot be missed.
          ctx.stderr.write(`warning: this shopify-ingest is older than the database: it was migrated by a newer version, with ${unknown.length} migration(s) this one does not know: ${unknown.join(', ')}. `
            + 'Upgrade shopify-ingest before syncing into this database.\n');
        }
        const human = result.applied.length ? `applied: ${result.applied.join(', ')}` : unknown.length ? 'nothing to apply (the database is ahead of this version)' : 'database is up to date';
        print(ctx, human, { ...result });
      } finally {
        await prisma.$disconnect();
      }
      return EXIT.ok;
    }
    case 'sync':
      return sync(args, values, ctx);
    case 'failures':
      return failures(values, ctx);
    case 'retry-failures':
      return retry(values, ctx);
    case 'doctor': {
      const prisma = await databaseOf(values, ctx);
      try {
        const facts = await readDoctorFacts(prisma, RESOURCE_NAMES, values.tenant as string | undefined);
        if (values.tenant && facts.length === 0) throw new UsageError(`no tenant ${JSON.stringify(values.tenant)}`);
        const defaultApiVersion = loadConfig({}, ctx.env, { require: [] }).apiVersion;
        const now = new Date();
        let reports = facts.map((f) => doctorReport(f, { now, defaultApiVersion }));
        if (values.subscriptions) reports = await withSubscriptions(reports, values, ctx);
        const problem = reports.some((r) => r.findings.some((f) => f.severity === 'problem'));
        print(ctx, renderDoctor(reports), { ok: !problem, tenants: reports });
        return problem ? EXIT.failed : EXIT.ok;
      } finally {
        await prisma.$disconnect();
      }
    }
    case 'status': {
      const { service, close } = await openService(values, ctx);
      try {
        const status = await service.getSyncStatus();
        const lines = status.map((s) => `${s.tenantId.padEnd(16)} ${s.shopDomain.padEnd(32)} ${(s.isActive ? 'active' : 'inactive').padEnd(9)} ${s.syncStatus.padEnd(8)} last sync ${s.lastSync ?? 'never'}  ${RESOURCE_NAMES.map((name) => `${name} ${s.stats[name]}`).join(' ')}`);
        print(ctx, lines.length ? lines.join('\n') : 'no tenants', { tenants: status });
      } finally {
        await close();
      }
      return EXIT.ok;
    }
    case 'tenants': {
      const [sub, tenantId] = args;
      if (sub === 'list') {
        const { service, close } = await openService(values, ctx);
        try {
          const tenants = await service.store.listTenants();
          print(ctx, tenants.map((t) => `${t.id}\t${t.shopDomain}\t${t.isActive ? 'active' : 'inactive'}`).join('\n') || 'no tenants', { tenants: tenants.map(({ accessTokenEnc: _secret, ...t }) => t) });
        } finally {
          await close();
        }
        return EXIT.ok;
      }
      if (sub === 'add') {
        if (!tenantId || !values.shop || !values.token) throw new UsageError('tenants add <tenant> --shop <domain> --token <token>');
        const { service, close } = await openService(values, ctx);
        try {
          const baseUrl = values['base-url'] as string | undefined;
          const tenant = await service.addTenant(tenantId, { shopDomain: String(values.shop), accessToken: String(values.token) }, {
            name: values.name as string | undefined,
            ...(baseUrl ? { client: { baseUrl } } : {}),
          });
          print(ctx, `added ${tenant.id} (${tenant.shopDomain})`, { ok: true, tenantId: tenant.id, shopDomain: tenant.shopDomain });
        } finally {
          await close();
        }
        return EXIT.ok;
      }
      if (sub === 'remove') {
        if (!tenantId) throw new UsageError('tenants remove <tenant> [--purge]');
        // Removing needs no token: it works even when the stored tokens do not open with this ENCRYPTION_KEY.
        const { service, close } = await openService(values, ctx, { checkEncryptionKey: false });
        try {
          await service.removeTenant(tenantId, { purge: Boolean(values.purge) });
          print(ctx, `removed ${tenantId}${values.purge ? ' and its data' : ''}`, { ok: true, tenantId });
        } finally {
          await close();
        }
        return EXIT.ok;
      }
      throw new UsageError('tenants list | add | remove');
    }
    case 'webhooks': {
      const [sub, id] = args;
      if (sub === 'toml') return webhooksTomlCommand(values, ctx);
      if (sub !== 'replay' || !id) throw new UsageError('webhooks replay <id> | webhooks toml --uri <url>');
      const prisma = await databaseOf(values, ctx);
      try {
        const { createWebhookInbox } = await import('../store/inbox.js');
        const outcome = await createWebhookInbox(prisma).replay(id, new Date());
        if (outcome !== 'ok') {
          const why = { not_found: 'no such delivery', no_body: 'its body was not kept', processing: 'it is being processed now' }[outcome];
          print(ctx, `cannot replay ${id}: ${why}`, { ok: false, id, reason: outcome });
          return EXIT.failed;
        }
        print(ctx, `delivery ${id} is pending again; a running service processes it`, { ok: true, id });
      } finally {
        await prisma.$disconnect();
      }
      return EXIT.ok;
    }
    default:
      throw new UsageError(`unknown command: ${command}`);
  }
}
