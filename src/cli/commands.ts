import { isResourceName, RESOURCE_NAMES } from '../resources/registry.js';
import { createDatabase } from '../store/index.js';
import { createIngestionService, type DataType, type IngestionService } from '../service.js';
import type { ImportAllResult, ImportResult } from '../importer/index.js';
import { createJsonLogger } from '../logger.js';
import { createProgress } from './progress.js';
import { EXIT, UsageError } from './exit.js';

export interface CliContext {
  stdout: NodeJS.WritableStream;
  stderr: NodeJS.WritableStream;
  env: Record<string, string | undefined>;
  json: boolean;
}

type Values = Record<string, string | boolean | undefined>;

function intOption(values: Values, name: string, fallback?: number): number | undefined {
  const raw = values[name];
  if (raw === undefined) return fallback;
  const n = Number(raw);
  if (!Number.isInteger(n) || n < 0) throw new UsageError(`--${name} must be a whole number (got ${String(raw)})`);
  return n;
}

function print(ctx: CliContext, human: string, data: unknown): void {
  ctx.stdout.write(ctx.json ? `${JSON.stringify(data, (_k, v) => (typeof v === 'bigint' ? v.toString() : v))}\n` : `${human}\n`);
}

/** Opens the database and a service that neither schedules nor listens (one-shot commands). */
async function openService(values: Values, ctx: CliContext, progress = false): Promise<{ service: IngestionService; close(): Promise<void> }> {
  const logger = createJsonLogger({ level: (ctx.env.LOG_LEVEL as 'info') ?? 'warn', write: (line) => ctx.stderr.write(`${line}\n`) });
  const prisma = await createDatabase({ url: values['database-url'] as string | undefined, dataDir: values['data-dir'] as string | undefined, env: ctx.env, logger });
  const renderer = progress && !ctx.json ? createProgress({ stream: ctx.stderr as NodeJS.WriteStream }) : undefined;
  const service = createIngestionService(prisma, {
    env: ctx.env,
    logger,
    scheduler: { enabled: false, distributed: false },
    webhooks: { enabled: false },
    healthCheckIntervalMs: 0,
    onProgress: renderer
      ? (e) => {
        const line = { label: `${e.tenantId} ${e.resource}`, done: e.fetched, ratePerSecond: e.ratePerSecond, extra: `imported ${e.imported} skipped ${e.skipped} failed ${e.failed}` };
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

/** Runs one command; returns the exit code. */
export async function runCommand(positionals: string[], values: Values, ctx: CliContext): Promise<number> {
  const [command, ...args] = positionals;
  switch (command) {
    case 'demo': {
      const { runDemo } = await import('./demo.js');
      return runDemo({ ctx, values });
    }
    case 'migrate': {
      const prisma = await createDatabase({ url: values['database-url'] as string | undefined, dataDir: values['data-dir'] as string | undefined, env: ctx.env, migrate: false });
      try {
        const { migrate } = await import('../store/index.js');
        const result = await migrate(prisma);
        print(ctx, result.applied.length ? `applied: ${result.applied.join(', ')}` : 'database is up to date', result);
      } finally {
        await prisma.$disconnect();
      }
      return EXIT.ok;
    }
    case 'sync': {
      const [tenantId, resource = 'all'] = args;
      if (!tenantId) throw new UsageError('sync: which tenant? shopify-ingest sync <tenant> [resource]');
      if (resource !== 'all' && !isResourceName(resource)) throw new UsageError(`sync: unknown resource ${resource} (one of ${RESOURCE_NAMES.join(', ')}, or all)`);
      const mode = values.mode as string | undefined;
      if (mode && !['full', 'incremental', 'auto'].includes(mode)) throw new UsageError('--mode must be full, incremental or auto');
      const wait = intOption(values, 'wait');
      const waitMs = wait === undefined ? undefined : wait * 1000;
      const { service, close } = await openService(values, ctx, true);
      try {
        const result = await service.importData(tenantId, resource as DataType, {
          mode: mode as 'full' | undefined,
          dryRun: Boolean(values['dry-run']),
          batchSize: intOption(values, 'batch-size'),
          concurrency: intOption(values, 'concurrency'),
          waitForLockMs: waitMs,
        });
        const runs = resultsOf(result);
        const lines = runs.map((r) => `${r.resource.padEnd(10)} ${r.status.padEnd(10)} fetched ${r.fetched} imported ${r.imported} skipped ${r.skipped} failed ${r.failed} deleted ${r.deleted} (${(r.durationMs / 1000).toFixed(1)} s)${r.error ? ` error: ${r.error}` : ''}`);
        print(ctx, lines.join('\n'), { ok: runs.every((r) => r.status === 'succeeded'), runs });
        if (runs.some((r) => r.status !== 'succeeded')) return EXIT.failed;
        return runs.some((r) => r.failed > 0) ? EXIT.partial : EXIT.ok;
      } finally {
        await close();
      }
    }
    case 'status': {
      const { service, close } = await openService(values, ctx);
      try {
        const status = await service.getSyncStatus();
        const lines = status.map((s) => `${s.tenantId.padEnd(16)} ${s.shopDomain.padEnd(32)} ${(s.isActive ? 'active' : 'inactive').padEnd(9)} ${s.syncStatus.padEnd(8)} last sync ${s.lastSync ?? 'never'}  customers ${s.stats.customers} products ${s.stats.products} orders ${s.stats.orders}`);
        print(ctx, lines.length ? lines.join('\n') : 'no tenants', status);
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
          print(ctx, tenants.map((t) => `${t.id}\t${t.shopDomain}\t${t.isActive ? 'active' : 'inactive'}`).join('\n') || 'no tenants', tenants.map(({ accessTokenEnc: _secret, ...t }) => t));
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
        const { service, close } = await openService(values, ctx);
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
      if (sub !== 'replay' || !id) throw new UsageError('webhooks replay <id>');
      const prisma = await createDatabase({ url: values['database-url'] as string | undefined, dataDir: values['data-dir'] as string | undefined, env: ctx.env });
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
