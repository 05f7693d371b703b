/**
 * A command-line front for the simulator: parses flags, starts it, prints where it listens and
 * the credentials of each shop, and runs until SIGINT/SIGTERM (or `signal`) stops it.
 */
import { parseArgs } from 'node:util';
import { createShopifySimulator, type ShopifySimulator, type ShopifySimulatorOptions } from './simulator.js';
import { FAULT_KINDS, type FaultKind } from './faults.js';
import { ConfigError } from '../errors.js';
import { DEFAULT_API_VERSION } from '../client/config.js';

/** `shopify-ingest simulator --help`. */
export const SIMULATOR_USAGE = `Usage: shopify-ingest simulator [options]

  --shops <n>          shops to host (default 3)
  --orders <n>         orders per shop (default 10000)
  --customers <n>      customers per shop (default orders/4)
  --products <n>       products per shop (default orders/40)
  --seed <n>           data seed (default 1)
  --port <n>           port (default: a free one)
  --host <addr>        interface (default 127.0.0.1)
  --https              serve HTTPS with a self-signed certificate
  --big-ids            ids above 2^53
  --time-scale <x>     simulated seconds per second (default 1)
  --unthrottled        no rate limits
  --bucket-size <n>    REST bucket size (default 40)
  --leak-rate <n>      REST leak per second (default 2)
  --api-secret <s>     webhook signing secret (default simulator_secret)
  --fault <kind=rate>  inject faults, e.g. --fault server_error=0.05 (repeatable;
                       kinds: ${FAULT_KINDS.join(', ')})
  --json               print the connection details as JSON
`;

function whole(value: string | undefined, name: string, fallback: number): number {
  if (value === undefined) return fallback;
  const n = Number(value);
  if (!Number.isInteger(n) || n < 0) throw new ConfigError(`--${name} must be a whole number (got ${value})`);
  return n;
}

/**
 * Turns CLI flags into simulator options (throws ConfigError on a bad flag).
 *
 * @example
 * ```ts
 * parseSimulatorArgs(['--shops', '2', '--fault', 'reset=0.05']).options.faults // { rates: { reset: 0.05 } }
 * ```
 */
export function parseSimulatorArgs(argv: string[]): {
  /** Simulator options. */
  options: ShopifySimulatorOptions;
  /** Print the connection details as JSON. */
  json: boolean;
  /** Print the usage. */
  help: boolean;
} {
  const { values } = parseArgs({
    args: argv,
    allowPositionals: true,
    options: {
      shops: { type: 'string' }, orders: { type: 'string' }, customers: { type: 'string' }, products: { type: 'string' },
      seed: { type: 'string' }, port: { type: 'string' }, host: { type: 'string' }, https: { type: 'boolean' },
      'big-ids': { type: 'boolean' }, 'time-scale': { type: 'string' }, unthrottled: { type: 'boolean' },
      'bucket-size': { type: 'string' }, 'leak-rate': { type: 'string' }, 'api-secret': { type: 'string' },
      fault: { type: 'string', multiple: true }, json: { type: 'boolean' }, help: { type: 'boolean', short: 'h' },
    },
  });
  const orders = whole(values.orders, 'orders', 10_000);
  const rates: Partial<Record<FaultKind, number>> = {};
  for (const spec of values.fault ?? []) {
    const [kind, rate] = spec.split('=');
    if (!FAULT_KINDS.includes(kind as FaultKind) || !(Number(rate) >= 0 && Number(rate) <= 1)) {
      throw new ConfigError(`--fault expects kind=rate with kind in ${FAULT_KINDS.join('|')} and 0 <= rate <= 1 (got ${spec})`);
    }
    rates[kind as FaultKind] = Number(rate);
  }
  const timeScale = values['time-scale'] !== undefined ? Number(values['time-scale']) : 1;
  if (!(timeScale > 0)) throw new ConfigError(`--time-scale must be > 0 (got ${values['time-scale']})`);
  const options: ShopifySimulatorOptions = {
    shops: whole(values.shops, 'shops', 3),
    shopDefaults: {
      orders,
      customers: whole(values.customers, 'customers', Math.max(10, Math.round(orders / 4))),
      products: whole(values.products, 'products', Math.max(5, Math.round(orders / 40))),
      bigIds: values['big-ids'] ?? false,
    },
    seed: whole(values.seed, 'seed', 1),
    port: whole(values.port, 'port', 0),
    host: values.host,
    https: values.https ?? false,
    timeScale,
    unthrottled: values.unthrottled ?? false,
    bucket: { size: whole(values['bucket-size'], 'bucket-size', 40), leakPerSecond: values['leak-rate'] ? Number(values['leak-rate']) : 2 },
    apiSecret: values['api-secret'],
    faults: Object.keys(rates).length ? { rates } : undefined,
  };
  return { options, json: values.json ?? false, help: values.help ?? false };
}

/**
 * Runs the simulator from command-line arguments: prints the base URL, shop domains and tokens,
 * then resolves once it has been stopped (Ctrl+C, SIGTERM or `signal`).
 *
 * @example
 * ```ts
 * // npx shopify-ingest simulator --shops 3 --orders 10000
 * await runSimulatorCli(['--shops', '3', '--orders', '10000']);
 * ```
 */
export async function runSimulatorCli(
  argv: string[],
  io: { stdout?: { write(s: string): unknown }; signal?: AbortSignal; onStarted?: (sim: ShopifySimulator) => void } = {},
): Promise<void> {
  const stdout = io.stdout ?? process.stdout;
  const { options, json, help } = parseSimulatorArgs(argv);
  if (help) { stdout.write(SIMULATOR_USAGE); return; }
  const sim = await createShopifySimulator(options);
  const shops = sim.shops.map((s) => ({ domain: s.domain, accessToken: s.accessToken, baseUrl: s.baseUrl }));
  if (json) stdout.write(`${JSON.stringify({ ok: true, url: sim.url, apiSecret: options.apiSecret ?? 'simulator_secret', shops })}\n`);
  else {
    stdout.write(`Shopify simulator listening on ${sim.url}\n`);
    for (const s of shops) stdout.write(`  ${s.domain}  token ${s.accessToken}  baseUrl ${s.baseUrl}\n`);
    stdout.write(`Webhook secret: ${options.apiSecret ?? 'simulator_secret'}\n`);
    stdout.write(`Try: curl -H 'X-Shopify-Access-Token: ${shops[0]?.accessToken}' '${sim.url}/admin/api/${options.apiVersion ?? DEFAULT_API_VERSION}/orders.json?status=any&limit=2'\n`);
    stdout.write('Press Ctrl+C to stop.\n');
  }
  io.onStarted?.(sim);
  await new Promise<void>((resolve) => {
    const stop = () => {
      process.off('SIGINT', stop);
      process.off('SIGTERM', stop);
      resolve();
    };
    process.once('SIGINT', stop);
    process.once('SIGTERM', stop);
    if (io.signal?.aborted) stop();
    io.signal?.addEventListener('abort', stop, { once: true });
  });
  await sim.stop();
}
