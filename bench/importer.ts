/**
 * Importer benchmark: full syncs from an unthrottled simulator into PostgreSQL, end to end
 * (HTTP pages, JSON parse with exact ids, transform with PII encryption, lines, events, batched upserts).
 *
 *   npx tsx bench/importer.ts
 *
 * Env knobs (defaults in brackets):
 *   BENCH_ORDERS [200000]      orders of job 1 (1-4 line items each, as the simulator generates)
 *   BENCH_CUSTOMERS [50000]    customers of job 1
 *   BENCH_BIG_ORDERS [1000000] orders of job 2 (memory must stay flat); 0 skips job 2
 *   BENCH_BATCH                rows per database write (default: the importer's own, 250)
 *   BENCH_CONCURRENCY [3]      batch writes in flight (the importer's own default)
 *   BENCH_JOB_NODE_OPTIONS     extra node flags of the job processes, e.g. --max-old-space-size=192
 *   BENCH_JOB_GLIBC_TUNABLES   GLIBC_TUNABLES of the job processes only, e.g. glibc.malloc.mmap_threshold=131072 (glibc's
 *                              malloc thresholds fixed: docs/importing.md, "A sync worker's memory")
 *   BENCH_JOB_CGROUP           a cgroup directory (v1 memory or v2) the job processes run in, e.g. one
 *                              with a 1 GiB memory limit: node then sizes its default heap for it
 *   BENCH_CEILING [1]          0 skips the ceiling: every order the job wrote, with its line items and events, reloaded
 *                              with COPY FROM afterwards (the database's ceiling for the very rows written)
 *   BENCH_COPY_SAMPLE          also a ceiling of only this many orders' rows, after the whole one, for comparison: a
 *                              sample that fits PostgreSQL's cache loads faster per row (docs/benchmarks.md)
 *   BENCH_LOG_MS [10000]       progress line interval (memory by V8 space: used/size MB)
 *   BENCH_SMAPS=1              where the RSS sits (malloc arenas, V8 heaps and other anonymous memory, files; bench/smaps.ts)
 *                              when the orders phase begins and at the highest sample, every 2 s
 *   BENCH_HEAP_SNAPSHOT_AT     write a heap snapshot once this many orders are imported
 *   BENCH_HEAP_SAMPLING        a file: where the orders phase's promoted bytes were allocated (V8's sampling heap
 *                              profiler keeping objects that survived the young generation; a .heapprofile)
 *   BENCH_HEAP_SAMPLING_ALL=1  the same profile of every allocation (young ones included): what makes scavenges frequent
 *   BENCH_REGROUP_LINES        the bulk importer's regroupLines (default: its own, 4,000; 0 writes records at once)
 *   BENCH_BULK_WORKER [1]      0 reads bulk files in the job's own thread (`bulk: { worker: false }`) instead of the worker thread
 *   BENCH_SOURCE [graphql]     graphql: full syncs as bulk operations (the default engine); rest: the legacy REST pages
 *   BENCH_BULK_FILES [disk]    disk: the simulator writes each bulk operation's result file while the operation runs, as
 *                              Shopify does, and serves it from disk; the phase's time and the simulator's CPU leave that
 *                              writing out (Shopify's part, printed apart). live: files are generated as the job reads
 *                              them, on the same cores (how sections before 2026-12-05 in docs/benchmarks.md ran)
 *
 * Each job runs in its own child process (so its peak RSS is its own), with the simulator in another
 * child process (bench/client-simulator-process.ts) so serving pages does not compete with the
 * importer's event loop. RSS is sampled every 200 ms; the peak is also read from process.resourceUsage().
 * Each phase also reports CPU time per 1,000 records of the job process, of PostgreSQL's backends of
 * the bench database and of the simulator (from /proc), and the ceiling reports its backend's CPU:
 * on a shared machine wall time follows the load, CPU per record much less.
 */
import { fork, spawn } from 'node:child_process';
import { describeBreakdown, memoryBreakdown, type MemoryBreakdown } from './smaps.js';
import v8 from 'node:v8';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { bundleBench } from './compile.js';

// BENCH_DIR: the job runs from a bundle elsewhere (bench/compile.ts), so it is told where bench/ is.
const here = process.env.BENCH_DIR ?? path.dirname(fileURLToPath(import.meta.url));
const env = process.env;
const num = (name: string, fallback: number) => (env[name] !== undefined && env[name] !== '' ? Number(env[name]) : fallback);

interface JobSpec { name: string; customers: number; products: number; orders: number; ceiling: boolean; copySample?: number }
interface JobResult {
  name: string;
  phases: Array<{ resource: string; records: number; seconds: number; perSecond: number; pages: number; method: string; cpu: PhaseCpu; shopify: ResultFiles }>;
  lineItems: number;
  events: number;
  totalSeconds: number;
  peakRssMb: number;
  peakHeapMb: number;
  /** V8's heap limit and the memory node found itself limited to (a container's), in MB. */
  heapLimitMb: number;
  /** BENCH_SMAPS=1: where the RSS sat at its highest sample (every 2 s) and when the orders phase began. */
  memory?: { peak: MemoryBreakdown | null; beforeOrders: MemoryBreakdown | null };
  constrainedMb: number | null;
  rssSamplesMb: number[];
  ceiling?: Ceiling;
  /** The ceiling of a sample only (`BENCH_COPY_SAMPLE`), measured after the whole one. */
  sampleCeiling?: Ceiling;
}

interface Ceiling { orders: number; seconds: number; perSecond: number; megabytes: number; bytesPerOrder: number; cpuMs: number }

/**
 * CPU time (ms) a phase took in each process: the job (importer; `jobSystem` is its part in the kernel,
 * mostly socket writes), the simulator, PostgreSQL's backends of the bench database (`autovacuum`: their
 * autovacuum workers' part).
 */
interface PhaseCpu { job: number; jobSystem: number; simulator: number; postgres: number; autovacuum: number }

/** Bulk result files the simulator wrote while their operations ran (BENCH_BULK_FILES=disk): Shopify's part of a phase. */
interface ResultFiles { files: number; bytes: number; ms: number; cpuMs: number }

/**
 * CPU time of a process from /proc (user + system, all threads), in ms; 0 where /proc is not readable.
 * The machine is shared: wall time depends on what else runs, CPU time much less, so the figures
 * that compare runs are CPU per record.
 */
async function procCpuMs(pid: number): Promise<number> {
  const { readFile } = await import('node:fs/promises');
  try {
    const stat = await readFile(`/proc/${pid}/stat`, 'utf8');
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    return ((Number(fields[11]) + Number(fields[12])) * 1000) / 100; // utime + stime, in clock ticks of 10 ms (CLK_TCK 100)
  } catch {
    return 0;
  }
}

/**
 * Tracks the CPU of PostgreSQL's backends connected to `database` (sampled every 500 ms, so backends
 * that come and go are counted, from their first sample); autovacuum workers' part is also given
 * apart: the database's own upkeep of the rows written, which the ceiling's COPY does not include.
 */
function backendCpu(db: Pick<import('../tests/helpers/test-database.js').TestDatabase, 'query' | 'name'>) {
  const start = new Map<number, number>();
  const last = new Map<number, number>();
  const autovacuum = new Set<number>();
  let timer: NodeJS.Timeout | undefined;
  const sample = async (first: boolean) => {
    const rows = await db.query<{ pid: number; backend_type: string }>(`SELECT pid, backend_type FROM pg_stat_activity WHERE datname = $1`, [db.name]);
    for (const { pid, backend_type: type } of rows) {
      const ms = await procCpuMs(pid);
      if (first) start.set(pid, ms);
      last.set(pid, ms);
      if (type === 'autovacuum worker') autovacuum.add(pid);
    }
  };
  return {
    async begin() { start.clear(); last.clear(); autovacuum.clear(); await sample(true); timer = setInterval(() => { sample(false).catch(() => {}); }, 500); },
    /** CPU ms of all the backends, and of the autovacuum workers among them. */
    async end(): Promise<{ total: number; autovacuum: number }> {
      clearInterval(timer);
      await sample(false);
      let total = 0;
      let vacuum = 0;
      for (const [pid, ms] of last) {
        total += ms - (start.get(pid) ?? 0);
        if (autovacuum.has(pid)) vacuum += ms - (start.get(pid) ?? 0);
      }
      return { total, autovacuum: vacuum };
    },
  };
}

/**
 * The database's own ceiling for the rows the job wrote: the first `sample` orders with their line
 * items and events are exported with COPY TO, the tables emptied, and the files loaded back with
 * COPY FROM (server-side, so no client or parsing cost of ours is in it). Same tables, same indexes
 * and foreign keys, same encrypted and jsonb values.
 */
async function copyCeiling(db: Pick<import('../tests/helpers/test-database.js').TestDatabase, 'query'>, sample: number): Promise<Ceiling> {
  const { mkdtemp, rm, chmod, stat } = await import('node:fs/promises');
  const os = await import('node:os');
  const dir = await mkdtemp(path.join(os.tmpdir(), 'si-ceiling-'));
  await chmod(dir, 0o777);
  const files = { orders: path.join(dir, 'orders.copy'), lines: path.join(dir, 'lines.copy'), events: path.join(dir, 'events.copy') };
  try {
    await db.query('DROP TABLE IF EXISTS ceiling_ids');
    await db.query(`CREATE TEMP TABLE ceiling_ids AS SELECT tenant_id, id FROM shopify_orders ORDER BY id LIMIT ${Math.floor(sample)}`);
    await db.query(`COPY (SELECT o.* FROM shopify_orders o JOIN ceiling_ids c USING (tenant_id, id)) TO '${files.orders}'`);
    await db.query(`COPY (SELECT l.* FROM shopify_order_line_items l JOIN ceiling_ids c ON c.tenant_id = l.tenant_id AND c.id = l.order_id) TO '${files.lines}'`);
    await db.query(`COPY (SELECT e.* FROM shopify_order_events e JOIN ceiling_ids c ON c.tenant_id = e.tenant_id AND c.id = e.order_id) TO '${files.events}'`);
    const [{ n }] = await db.query<{ n: string }>('SELECT count(*) AS n FROM ceiling_ids');
    await db.query('TRUNCATE shopify_orders, shopify_order_line_items, shopify_order_events');
    await db.query('CHECKPOINT');
    const [{ pid }] = await db.query<{ pid: number }>('SELECT pg_backend_pid() AS pid');
    const cpu0 = await procCpuMs(pid);
    const t = performance.now();
    await db.query(`COPY shopify_orders FROM '${files.orders}'`);
    await db.query(`COPY shopify_order_line_items FROM '${files.lines}'`);
    await db.query(`COPY shopify_order_events FROM '${files.events}'`);
    const seconds = (performance.now() - t) / 1000;
    const cpuMs = (await procCpuMs(pid)) - cpu0;
    const bytes = (await stat(files.orders)).size + (await stat(files.lines)).size + (await stat(files.events)).size;
    return { orders: Number(n), seconds, perSecond: Math.round(Number(n) / seconds), megabytes: Math.round(bytes / 2 ** 20), bytesPerOrder: Math.round(bytes / Number(n)), cpuMs };
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}

const memLine = () => { const sp = v8.getHeapSpaceStatistics().map((s) => `${s.space_name.replace('_space', '')}=${(s.space_used_size / 2 ** 20).toFixed(0)}/${(s.space_size / 2 ** 20).toFixed(0)}`).join(' '); const m = process.memoryUsage(); const mb = (b: number) => (b / 2 ** 20).toFixed(0); return `rss ${mb(m.rss)} MB (heap ${mb(m.heapUsed)}/${mb(m.heapTotal)}, external ${mb(m.external)}, arrayBuffers ${mb(m.arrayBuffers)}) [${sp}]`; };

async function startSimulator(options: Record<string, unknown>) {
  const child = fork(path.join(here, 'client-simulator-process.ts'), [JSON.stringify(options)], { execArgv: ['--import', 'tsx'], stdio: ['ignore', 'inherit', 'inherit', 'ipc'] });
  const ready = await new Promise<{ url: string; shops: Array<{ domain: string; accessToken: string }> }>((resolve, reject) => {
    child.once('message', (m) => resolve(m as never));
    child.once('exit', (code) => reject(new Error(`simulator exited (${code})`)));
  });
  let nextId = 2;
  const ask = <T>(cmd: string) => new Promise<T>((resolve) => {
    const id = nextId++;
    const listener = (m: { id?: number } & Record<string, unknown>) => { if (m.id === id) { child.off('message', listener); resolve(m as T); } };
    child.on('message', listener);
    child.send({ id, cmd });
  });
  return {
    ...ready,
    pid: child.pid!,
    resultFiles: async () => (await ask<{ resultFiles: ResultFiles }>('resultFiles')).resultFiles,
    stop: () => new Promise<void>((resolve) => { child.once('exit', () => resolve()); child.send({ id: 1, cmd: 'stop' }); setTimeout(() => { child.kill(); resolve(); }, 5000).unref(); }),
  };
}

/** Runs in the job child process. */
async function runJob(spec: JobSpec): Promise<JobResult> {
  const { createTestDatabase } = await import('../tests/helpers/test-database.js');
  const { createShopifyClient } = await import('../src/client/index.js');
  const { createKeyRing } = await import('../src/crypto/index.js');
  const { createImportService } = await import('../src/importer/index.js');
  const { createStore } = await import('../src/store/index.js');
  const { createJsonLogger } = await import('../src/logger.js');
  const { randomBytes } = await import('node:crypto');

  const samples: number[] = [];
  let peak = 0;
  let peakHeap = 0;
  const timer = setInterval(() => {
    const m = process.memoryUsage();
    peak = Math.max(peak, m.rss);
    peakHeap = Math.max(peakHeap, m.heapUsed);
    samples.push(m.rss);
  }, 200);
  const memory = env.BENCH_SMAPS === '1' ? { peak: null as MemoryBreakdown | null, beforeOrders: null as MemoryBreakdown | null } : undefined;
  const smapsTimer = memory && setInterval(() => {
    const b = memoryBreakdown();
    if (b && (memory.peak === null || b.rssMb > memory.peak.rssMb)) memory.peak = b;
  }, 2000);
  // The benchmark measures reading and writing bulk operations' files, not how long Shopify takes to
  // prepare one: operations start at once, and with BENCH_BULK_FILES=disk (the default) the time and
  // CPU the simulator spends writing a file before its operation completes are taken out of the phase.
  const { mkdtemp, rm } = await import('node:fs/promises');
  const os = await import('node:os');
  const filesOnDisk = (env.BENCH_BULK_FILES ?? 'disk') === 'disk';
  const resultDir = filesOnDisk ? await mkdtemp(path.join(os.tmpdir(), 'si-bench-bulk-')) : undefined;
  const sim = await startSimulator({ seed: 3, unthrottled: true, bulk: { startDelayMs: 10, rowsPerSecond: 1e9, ...(resultDir ? { resultDir } : {}) }, shops: [{ customers: spec.customers, products: spec.products, orders: spec.orders }] });
  const db = await createTestDatabase({ prefix: 'si_bench_importer' });
  try {
    const shop = sim.shops[0];
    await createStore(db.database).upsertTenant({ id: 'bench', shopDomain: shop.domain, accessTokenEnc: 'x' });
    const client = createShopifyClient({ shopDomain: shop.domain, accessToken: shop.accessToken, baseUrl: sim.url });
    // Warnings are printed: a bulk file's worker thread that failed (the rest of the file then read in
    // this thread, with this thread's memory) must not pass unseen.
    const logger = createJsonLogger({ level: 'warn', write: (line) => process.stderr.write(`  ${line}\n`) });
    const service = createImportService(db.database, client, 'bench', { logger, keyRing: createKeyRing({ key: randomBytes(32) }), bulk: { minPollMs: 50, maxPollMs: 200, ...(env.BENCH_REGROUP_LINES ? { regroupLines: Number(env.BENCH_REGROUP_LINES) } : {}), ...(env.BENCH_BULK_WORKER === '0' ? { worker: false } : {}) } });
    const options = { batchSize: env.BENCH_BATCH ? num('BENCH_BATCH', 0) : undefined, concurrency: num('BENCH_CONCURRENCY', 3), source: (env.BENCH_SOURCE ?? 'graphql') as 'graphql' | 'rest' };
    const phases: JobResult['phases'] = [];
    const t0 = performance.now();
    let lastLog = 0;
    let snapshotTaken = false;
    service.on('progress', (p) => {
      if (!snapshotTaken && env.BENCH_HEAP_SNAPSHOT_AT && p.resource === 'orders' && p.imported >= Number(env.BENCH_HEAP_SNAPSHOT_AT)) {
        snapshotTaken = true;
        process.stderr.write(`  heap snapshot: ${v8.writeHeapSnapshot()}\n`);
      }
      if (performance.now() - lastLog > Number(env.BENCH_LOG_MS ?? 10_000)) {
        lastLog = performance.now();
        process.stderr.write(`  [${spec.name}] ${p.resource} ${p.imported}/${p.fetched} ${p.ratePerSecond}/s ${memLine()}\n`);
      }
    });
    const pgCpu = backendCpu(db);
    for (const resource of ['customers', 'products', 'orders'] as const) {
      if (spec[resource] === 0) continue;
      if (memory && resource === 'orders') memory.beforeOrders = memoryBreakdown();
      await pgCpu.begin();
      const files0 = await sim.resultFiles();
      const cpu0 = { job: process.cpuUsage(), simulator: await procCpuMs(sim.pid) };
      const t = performance.now();
      const sampling = resource === 'orders' && env.BENCH_HEAP_SAMPLING ? await startPromotedSampling() : null;
      const r = resource === 'customers' ? await service.importCustomers(options) : resource === 'products' ? await service.importProducts(options) : await service.importOrders(options);
      if (sampling) process.stderr.write(`  promoted-bytes profile: ${await sampling.stop(env.BENCH_HEAP_SAMPLING!)}\n`);
      const wall = (performance.now() - t) / 1000;
      if (r.imported !== spec[resource]) throw new Error(`${resource}: imported ${r.imported} of ${spec[resource]}`);
      const job = process.cpuUsage(cpu0.job);
      const backends = await pgCpu.end();
      const simulatorCpu = (await procCpuMs(sim.pid)) - cpu0.simulator;
      const files1 = await sim.resultFiles();
      // Shopify's part: writing the result files while the job waited for the operations to complete.
      const shopify = { files: files1.files - files0.files, bytes: files1.bytes - files0.bytes, ms: files1.ms - files0.ms, cpuMs: files1.cpuMs - files0.cpuMs };
      const seconds = wall - shopify.ms / 1000;
      const cpu = { job: (job.user + job.system) / 1000, jobSystem: job.system / 1000, simulator: simulatorCpu - shopify.cpuMs, postgres: backends.total, autovacuum: backends.autovacuum };
      phases.push({ resource, records: r.imported, seconds, perSecond: Math.round(r.imported / seconds), pages: r.pages, method: r.method, cpu, shopify });
    }
    const totalSeconds = (performance.now() - t0) / 1000;
    const [{ lines }] = await db.query<{ lines: string }>(`SELECT count(*) AS lines FROM shopify_order_line_items`);
    const [{ events }] = await db.query<{ events: string }>(`SELECT count(*) AS events FROM shopify_order_events`);
    clearInterval(timer);
    if (smapsTimer) clearInterval(smapsTimer);
    const maxRss = process.resourceUsage().maxRSS * 1024;
    const ceiling = spec.ceiling ? await copyCeiling(db, spec.orders) : undefined;
    // After the whole ceiling the tables hold the same rows again, so the sample's are the job's.
    const sampleCeiling = spec.copySample ? await copyCeiling(db, spec.copySample) : undefined;
    return { name: spec.name, phases, lineItems: Number(lines), events: Number(events), totalSeconds, peakRssMb: Math.round(Math.max(peak, maxRss) / 2 ** 20), peakHeapMb: Math.round(peakHeap / 2 ** 20), heapLimitMb: Math.round(v8.getHeapStatistics().heap_size_limit / 2 ** 20), constrainedMb: process.constrainedMemory() > 0 && process.constrainedMemory() < 2 ** 52 ? Math.round(process.constrainedMemory() / 2 ** 20) : null, rssSamplesMb: samples.filter((_, i) => i % Math.max(1, Math.floor(samples.length / 10)) === 0).map((b) => Math.round(b / 2 ** 20)), ceiling, sampleCeiling, memory };
  } finally {
    clearInterval(timer);
    if (smapsTimer) clearInterval(smapsTimer);
    await db.drop().catch(() => {});
    await sim.stop();
    if (resultDir) await rm(resultDir, { recursive: true, force: true });
  }
}

/**
 * BENCH_HEAP_SAMPLING: V8's sampling heap profiler over the orders phase, keeping only the objects that
 * survived the young generation (promoted, whether a full collection freed them later or not): where the
 * bytes that size the old generation are allocated. Written as a .heapprofile (Chrome DevTools).
 */
async function startPromotedSampling(): Promise<{ stop(file: string): Promise<string> }> {
  const inspector = await import('node:inspector');
  const { writeFile } = await import('node:fs/promises');
  const session = new inspector.Session();
  session.connect();
  const post = (method: string, params?: object) => new Promise<any>((resolve, reject) => session.post(method, params ?? {}, (error, result) => (error ? reject(error) : resolve(result))));
  await post('HeapProfiler.enable');
  await post('HeapProfiler.startSampling', { samplingInterval: 8192, includeObjectsCollectedByMajorGC: true, includeObjectsCollectedByMinorGC: env.BENCH_HEAP_SAMPLING_ALL === '1' });
  return {
    async stop(file) {
      const { profile } = await post('HeapProfiler.stopSampling');
      await writeFile(file, JSON.stringify(profile));
      session.disconnect();
      return file;
    },
  };
}

async function runChildJob(spec: JobSpec): Promise<JobResult> {
  // The job runs as plain JavaScript (bench/compile.ts).
  const job = await bundleBench(import.meta.url, 'importer-job');
  return new Promise((resolve, reject) => {
    // BENCH_JOB_NODE_OPTIONS (e.g. --max-old-space-size=128) shows how little heap the job really needs.
    const extra = (env.BENCH_JOB_NODE_OPTIONS ?? '').split(' ').filter(Boolean);
    const tunables = env.BENCH_JOB_GLIBC_TUNABLES ? { GLIBC_TUNABLES: env.BENCH_JOB_GLIBC_TUNABLES } : {};
    const options: { env: NodeJS.ProcessEnv; stdio: Array<'ignore' | 'inherit' | 'ipc'> } = { env: { ...process.env, ...tunables, BENCH_DIR: here }, stdio: ['ignore', 'inherit', 'inherit', 'ipc'] };
    // BENCH_JOB_CGROUP: the job joins that cgroup before node starts, so node sizes its heap for the
    // container's memory limit as it would in one (a shell writes its pid, then execs node; the IPC
    // channel's descriptor survives the exec).
    const cgroup = env.BENCH_JOB_CGROUP;
    const child = cgroup
      ? spawn('sh', ['-c', 'echo $$ > "$0/cgroup.procs" && exec "$@"', cgroup, process.execPath, ...extra, job, '--job', JSON.stringify(spec)], options)
      : fork(job, ['--job', JSON.stringify(spec)], { ...options, execArgv: extra });
    child.once('message', (m) => resolve(m as JobResult));
    child.once('exit', (code) => { if (code !== 0) reject(new Error(`job ${spec.name} exited with ${code}`)); });
  });
}

function print(r: JobResult): void {
  console.log(`\n${r.name}`);
  const per1000 = (ms: number, n: number) => ((ms * 1000) / n).toFixed(0);
  for (const p of r.phases) {
    console.log(`  ${p.resource.padEnd(9)} ${String(p.records).padStart(8)} records  ${p.seconds.toFixed(1).padStart(7)} s  ${String(p.perSecond).padStart(6)} records/s  (${p.method}${p.method === 'bulk' ? '' : `, ${p.pages} pages`})`);
    if (p.shopify.files > 0) console.log(`            not counted above: the simulator writing ${p.shopify.files} result file(s) of ${(p.shopify.bytes / 2 ** 20).toFixed(0)} MB before the operation completed (Shopify's part), ${(p.shopify.ms / 1000).toFixed(1)} s, ${per1000(p.shopify.cpuMs, p.records)} ms of its CPU per 1,000 records`);
    console.log(`            CPU per 1,000 records: importer ${per1000(p.cpu.job, p.records)} ms (kernel ${per1000(p.cpu.jobSystem, p.records)}), PostgreSQL backends ${per1000(p.cpu.postgres, p.records)} ms (autovacuum ${per1000(p.cpu.autovacuum, p.records)}), simulator ${per1000(p.cpu.simulator, p.records)} ms`);
  }
  const orders = r.phases.find((p) => p.resource === 'orders');
  console.log(`  order line items ${r.lineItems} (${orders ? (r.lineItems / orders.records).toFixed(2) : '-'} per order), order events ${r.events}`);
  for (const [label, ceiling] of [['ceiling', r.ceiling], ['sample ceiling (comparison only)', r.sampleCeiling]] as const) {
    if (!ceiling) continue;
    const which = ceiling.orders === orders?.records ? `all ${ceiling.orders} orders' rows` : `the first ${ceiling.orders} orders' rows`;
    console.log(`  ${label}: COPY FROM of ${which} as the job wrote them (${ceiling.megabytes} MB, ${ceiling.bytesPerOrder} bytes of COPY text per order): ${ceiling.seconds.toFixed(1)} s = ${ceiling.perSecond} orders/s; orders phase at ${orders ? (orders.perSecond / ceiling.perSecond).toFixed(2) : '-'}x the ceiling`);
    if (orders) {
      const ceilingCpu = (ceiling.cpuMs * 1000) / ceiling.orders;
      const ours = ((orders.cpu.job + orders.cpu.postgres) * 1000) / orders.records;
      console.log(`    its CPU: ${ceilingCpu.toFixed(0)} ms of its backend per 1,000 orders; the orders phase: ${ours.toFixed(0)} ms (importer + backends) = ${(ceilingCpu / ours).toFixed(2)}x the ceiling's efficiency, ${((orders.cpu.postgres * 1000) / orders.records / ceilingCpu).toFixed(2)}x its database CPU`);
    }
  }
  console.log(`  total ${r.totalSeconds.toFixed(1)} s; peak RSS ${r.peakRssMb} MB (peak JS heap used ${r.peakHeapMb} MB; V8 heap limit ${r.heapLimitMb} MB${r.constrainedMb === null ? '' : `, memory limit ${r.constrainedMb} MB`}); RSS over the run (MB): ${r.rssSamplesMb.join(' ')}`);
  if (r.memory?.beforeOrders) console.log(`  when the orders phase began: ${describeBreakdown(r.memory.beforeOrders)}`);
  if (r.memory?.peak) console.log(`  highest sample (every 2 s): ${describeBreakdown(r.memory.peak)}`);
}

/** The ceilings a job of `orders` orders measures: all its rows unless BENCH_CEILING=0, and a sample when BENCH_COPY_SAMPLE is set. */
function ceilings(orders: number): Pick<JobSpec, 'ceiling' | 'copySample'> {
  const sample = num('BENCH_COPY_SAMPLE', 0);
  return { ceiling: num('BENCH_CEILING', 1) !== 0, copySample: sample > 0 && sample < orders ? sample : undefined };
}

if (process.argv[2] === '--job') {
  const result = await runJob(JSON.parse(process.argv[3]) as JobSpec);
  process.send!(result);
  process.exit(0);
} else {
  const batch = env.BENCH_BATCH ? num('BENCH_BATCH', 0) : 'default (250)', concurrency = num('BENCH_CONCURRENCY', 3);
  const os = await import('node:os');
  const load = () => os.loadavg().map((l) => l.toFixed(2)).join(' ');
  const tunables = env.BENCH_JOB_GLIBC_TUNABLES ?? env.GLIBC_TUNABLES;
  console.log(`importer bench: source ${env.BENCH_SOURCE ?? 'graphql'}, bulk files ${env.BENCH_BULK_FILES ?? 'disk'}, batchSize ${batch}, concurrency ${concurrency}, node ${process.version}, ${new Date().toISOString()}, load average ${load()}${tunables ? `, the jobs' GLIBC_TUNABLES ${tunables}` : ''}`);
  const job1 = await runChildJob({ name: `job 1: ${num('BENCH_CUSTOMERS', 50_000)} customers + ${num('BENCH_ORDERS', 200_000)} orders`, customers: num('BENCH_CUSTOMERS', 50_000), products: 200, orders: num('BENCH_ORDERS', 200_000), ...ceilings(num('BENCH_ORDERS', 200_000)) });
  print(job1);
  const big = num('BENCH_BIG_ORDERS', 1_000_000);
  if (big > 0) {
    console.log(`\njob 2 starts ${new Date().toISOString()}, load average ${load()}`);
    print(await runChildJob({ name: `job 2: ${big} orders (memory must stay flat)`, customers: 0, products: 200, orders: big, ...ceilings(big) }));
  }
}
