/**
 * What the `shopify-ingest` command accepts: every command, its arguments, its flags and its help.
 * The parser (index.ts) reads flags from here, so a flag that is not listed for a command is an
 * error with a suggestion, and `<command> --help` always matches what the command takes.
 */
import { loadConfig, type ConfigFeature } from '../config/index.js';
import type { LogLevel } from '../logger.js';
import { RESOURCE_NAMES } from '../resources/registry.js';
import { UsageError } from './exit.js';

/** One flag of a command. */
export interface FlagSpec {
  type: 'string' | 'boolean';
  short?: string;
  /** Value placeholder shown in help, e.g. `<url>`. */
  value?: string;
  description: string;
}

/** One command (or `tenants add`-style sub-command). */
export interface CommandSpec {
  /** As typed: `sync`, `tenants add`. */
  name: string;
  /** Positional arguments, for the usage line. */
  args?: string;
  summary: string;
  /** Extra help text after the flags. */
  details?: string;
  flags: Record<string, FlagSpec>;
  /** Settings the command needs before it opens anything (see `loadConfig`). */
  requires: readonly ConfigFeature[];
}

const JSON_FLAG: Record<string, FlagSpec> = {
  json: { type: 'boolean', description: 'Machine-readable output (one JSON document, or one JSON event per line for progress)' },
};

const DATABASE_FLAGS: Record<string, FlagSpec> = {
  'database-url': { type: 'string', value: '<url>', description: 'PostgreSQL URL (default DATABASE_URL; without either, the embedded database)' },
  'data-dir': { type: 'string', value: '<dir>', description: 'Folder of the embedded database (default ./.shopify-ingest/db); given, it wins over DATABASE_URL' },
};

/** The demo's own folder: never the real embedded database, since the demo recreates it on every run. */
export const DEMO_DATA_DIR = './.shopify-ingest/demo-db';

const DEMO_DATABASE_FLAGS: Record<string, FlagSpec> = {
  'database-url': DATABASE_FLAGS['database-url']!,
  'data-dir': { type: 'string', value: '<dir>', description: `Folder of the demo's embedded database (default ${DEMO_DATA_DIR}), recreated on every run; wins over DATABASE_URL` },
};

/**
 * The database the flags ask for: `--data-dir` wins over an exported DATABASE_URL (the env passed on
 * lacks it), since a flag typed on the command line is the more deliberate choice; both flags at once is a usage error.
 */
export function databaseFlags(values: Record<string, string | boolean | undefined>, env: Record<string, string | undefined>): { url?: string; dataDir?: string; env: Record<string, string | undefined> } {
  const url = values['database-url'] as string | undefined;
  const dataDir = values['data-dir'] as string | undefined;
  if (url !== undefined && dataDir !== undefined) throw new UsageError('--data-dir and --database-url name two databases: give one of them');
  return dataDir === undefined ? { url, env } : { dataDir, env: { ...env, DATABASE_URL: undefined } };
}

/** The CLI's log level: LOG_LEVEL read as the configuration reads it (`DEBUG` is `debug`), `warn` when unset. */
export function cliLogLevel(env: Record<string, string | undefined>): LogLevel {
  return env.LOG_LEVEL?.trim() ? loadConfig({}, { LOG_LEVEL: env.LOG_LEVEL }, { require: [] }).logLevel : 'warn';
}

/** Flags every command accepts. */
export const GLOBAL_FLAGS: Record<string, FlagSpec> = {
  help: { type: 'boolean', short: 'h', description: 'Help (of the command, when one is given)' },
  version: { type: 'boolean', short: 'v', description: 'The package version' },
};

const TENANT_FILTER: Record<string, FlagSpec> = {
  tenant: { type: 'string', value: '<tenant>', description: 'Only this tenant' },
  resource: { type: 'string', value: '<resource>', description: `Only one of ${RESOURCE_NAMES.join(', ')}` },
};

/** Every command, in the order the help lists them. */
export const COMMANDS: readonly CommandSpec[] = [
  {
    name: 'demo',
    summary: 'Simulator + embedded database + full sync + live webhooks, with a summary',
    details: 'Generates throwaway secrets unless ENCRYPTION_KEY / SHOPIFY_API_SECRET are set. With DATABASE_URL the data stays\n'
      + 'in that database: run it again with the same ENCRYPTION_KEY, or on an empty database. Without it, the demo deletes\n'
      + 'and recreates its folder on every run, but only a folder it created (marked with a .shopify-ingest-demo file):\n'
      + 'a --data-dir that is not empty and not marked (your own embedded database, say) is refused.',
    flags: {
      orders: { type: 'string', value: '<n>', description: 'Orders of the first shop (default 2000; the second gets half)' },
      customers: { type: 'string', value: '<n>', description: 'Customers of the first shop (default orders/3)' },
      products: { type: 'string', value: '<n>', description: 'Products of the first shop (default orders/30)' },
      seed: { type: 'string', value: '<n>', description: 'Data seed (default 42)' },
      ...DEMO_DATABASE_FLAGS,
      ...JSON_FLAG,
    },
    requires: [],
  },
  {
    name: 'migrate',
    summary: 'Apply pending migrations to the database',
    flags: { ...DATABASE_FLAGS, ...JSON_FLAG },
    requires: [],
  },
  {
    name: 'sync',
    args: '<tenant> [<resource>|all]',
    summary: 'Import now, with progress (Ctrl-C stops cleanly; run it again to resume)',
    details: `${wrap(`Resources: ${RESOURCE_NAMES.join(', ')}, or all (the default): every resource enabled for the tenant.`)}\n`
      + 'Exit codes: 0 ok, 1 failed, 4 some records failed (see `failures`), 5 a resource was skipped because another\n'
      + 'run was importing it, 130 interrupted (the run is recorded as cancelled; its checkpoint is kept).',
    flags: {
      mode: { type: 'string', value: 'full|incremental|auto', description: 'Default auto: incremental once a full sync completed' },
      resources: { type: 'string', value: '<a,b,...>', description: 'Several resources, synced in dependency order (instead of the [resource] argument)' },
      'dry-run': { type: 'boolean', description: 'Fetch and transform, write nothing' },
      'batch-size': { type: 'string', value: '<n>', description: 'Rows per database write (default 250, or the DEFAULT_BATCH_SIZE variable)' },
      concurrency: { type: 'string', value: '<n>', description: 'Batch writes in flight (default 3, or the DEFAULT_CONCURRENCY variable)' },
      wait: { type: 'string', value: '<seconds>', description: 'Wait this long for another run of the same resource to finish (default 0)' },
      source: { type: 'string', value: 'graphql|rest', description: 'Default graphql (bulk operations, then pages); rest for custom apps still on the REST Admin API' },
      ...DATABASE_FLAGS,
      ...JSON_FLAG,
    },
    requires: ['encryption'],
  },
  {
    name: 'doctor',
    summary: 'What needs attention, per tenant: credentials, scopes, syncs, inbox, API versions and deprecations',
    details: 'Reads the database only, unless --subscriptions. Exit codes: 0 nothing needs action, 1 a problem (marked ✗) was found.',
    flags: {
      tenant: { type: 'string', value: '<tenant>', description: 'Only this tenant' },
      subscriptions: { type: 'boolean', description: 'Also ask Shopify for each active tenant\'s webhook subscriptions and report drift (needs ENCRYPTION_KEY and HOST_NAME or a callback URL); repairs nothing' },
      ...DATABASE_FLAGS,
      ...JSON_FLAG,
    },
    requires: [],
  },
  {
    name: 'status',
    summary: 'Sync status of every tenant',
    flags: { ...DATABASE_FLAGS, ...JSON_FLAG },
    requires: ['encryption'],
  },
  {
    name: 'failures',
    summary: 'Records a sync could not import and that no later sync fixed',
    flags: {
      ...TENANT_FILTER,
      limit: { type: 'string', value: '<n>', description: 'At most this many (default 100)' },
      ...DATABASE_FLAGS,
      ...JSON_FLAG,
    },
    requires: [],
  },
  {
    name: 'retry-failures',
    summary: 'Fetch the failed records again from Shopify and import them; what still fails is recorded again',
    details: 'Exit codes: 0 every record imported (or gone from Shopify), 4 some still fail (see `failures`).',
    flags: { ...TENANT_FILTER, ...DATABASE_FLAGS, ...JSON_FLAG },
    requires: ['encryption'],
  },
  {
    name: 'tenants list',
    summary: 'Connected stores',
    flags: { ...DATABASE_FLAGS, ...JSON_FLAG },
    requires: ['encryption'],
  },
  {
    name: 'tenants add',
    args: '<tenant>',
    summary: 'Connect a store (the token is checked against Shopify, then stored encrypted)',
    flags: {
      shop: { type: 'string', value: '<domain>', description: 'The shop, e.g. acme.myshopify.com (required)' },
      token: { type: 'string', value: '<token>', description: 'Admin API access token (required)' },
      'base-url': { type: 'string', value: '<url>', description: 'Talk to this server instead of Shopify (the simulator)' },
      name: { type: 'string', value: '<name>', description: 'Display name (default: the shop name from Shopify)' },
      ...DATABASE_FLAGS,
      ...JSON_FLAG,
    },
    requires: ['encryption'],
  },
  {
    name: 'tenants remove',
    args: '<tenant>',
    summary: 'Disconnect a store; its data is kept unless --purge',
    flags: {
      purge: { type: 'boolean', description: 'Also delete its synced data' },
      ...DATABASE_FLAGS,
      ...JSON_FLAG,
    },
    requires: ['encryption'],
  },
  {
    name: 'webhooks replay',
    args: '<id>',
    summary: 'Put a stored delivery back to pending (a running service processes it)',
    flags: { ...DATABASE_FLAGS, ...JSON_FLAG },
    requires: [],
  },
  {
    name: 'webhooks toml',
    summary: "Print shopify.app.toml's [webhooks] block for the topics the SDK handles",
    details: 'App-specific subscriptions, deployed with `shopify app deploy`: the resources\' topics, app/uninstalled and\n'
      + 'bulk_operations/finish in one subscription, the three compliance topics in another. Needs no database.',
    flags: {
      uri: { type: 'string', value: '<url>', description: 'Delivery URL, absolute https:// (e.g. https://app.example.com/api/webhooks/shopify)' },
      'api-version': { type: 'string', value: '<YYYY-MM>', description: 'api_version of the payloads (default SHOPIFY_API_VERSION, else the SDK\'s)' },
      resources: { type: 'string', value: '<list>', description: `Comma-separated, of ${RESOURCE_NAMES.join(', ')} (default all)` },
    },
    requires: [],
  },
  {
    name: 'simulator',
    summary: 'A local Shopify to point a tenant at (`simulator --help` lists its flags)',
    flags: {},
    requires: [],
  },
];

/** Commands that have sub-commands (`tenants`, `webhooks`). */
export const GROUPS: Readonly<Record<string, readonly string[]>> = {
  tenants: ['list', 'add', 'remove'],
  webhooks: ['replay', 'toml'],
};

/**
 * The spec of the command `positionals` start with: `['tenants', 'add', 'x']` → `tenants add`.
 * Undefined for an unknown command.
 */
export function findCommand(positionals: readonly string[]): { spec: CommandSpec; rest: string[] } | undefined {
  const [first, second, ...others] = positionals;
  if (first === undefined) return undefined;
  if (GROUPS[first] && second !== undefined) {
    const spec = COMMANDS.find((c) => c.name === `${first} ${second}`);
    return spec ? { spec, rest: others } : undefined;
  }
  const spec = COMMANDS.find((c) => c.name === first);
  return spec ? { spec, rest: positionals.slice(1) } : undefined;
}

// Help text wider than a terminal is hard to read: long lists break at spaces before `width`.
function wrap(text: string, width = 110): string {
  const lines: string[] = [];
  let line = '';
  for (const word of text.split(' ')) {
    if (line && line.length + 1 + word.length > width) {
      lines.push(line);
      line = word;
    } else line = line ? `${line} ${word}` : word;
  }
  return [...lines, line].join('\n');
}

function flagLine(name: string, flag: FlagSpec): [string, string] {
  return [`${flag.short ? `-${flag.short}, ` : '    '}--${name}${flag.value ? ` ${flag.value}` : ''}`, flag.description];
}

function table(rows: Array<[string, string]>, indent = '  '): string {
  const width = Math.max(...rows.map(([left]) => left.length));
  return rows.map(([left, right]) => `${indent}${left.padEnd(width)}  ${right}`).join('\n');
}

/** `shopify-ingest <command> --help`. */
export function commandHelp(spec: CommandSpec): string {
  const usage = `Usage: shopify-ingest ${spec.name}${spec.args ? ` ${spec.args}` : ''}${Object.keys(spec.flags).length ? ' [options]' : ''}`;
  const flags = Object.entries({ ...spec.flags, help: GLOBAL_FLAGS.help! }).map(([name, flag]) => flagLine(name, flag));
  return `${usage}\n\n${spec.summary}\n\nOptions:\n${table(flags)}\n${spec.details ? `\n${spec.details}\n` : ''}`;
}

/** Help for a group (`shopify-ingest tenants`). */
export function groupHelp(group: string): string {
  const specs = COMMANDS.filter((c) => c.name.startsWith(`${group} `));
  return `Usage: shopify-ingest ${group} <${GROUPS[group]!.join('|')}> [options]\n\n${table(specs.map((s) => [`${s.name}${s.args ? ` ${s.args}` : ''}`, s.summary]))}\n\n`
    + `shopify-ingest ${group} <${GROUPS[group]!.join('|')}> --help for its options\n`;
}

/** The top-level help. */
export const USAGE = `Usage: shopify-ingest <command> [options]

Commands:
${table(COMMANDS.map((c) => [`${c.name}${c.args ? ` ${c.args}` : ''}`, c.summary]))}

Options:
${table([...Object.entries(GLOBAL_FLAGS).map(([n, f]) => flagLine(n, f)), ['    --json', 'Machine-readable output']])}

Run \`shopify-ingest <command> --help\` for the options of a command.

Exit codes: 0 ok, 1 failed, 2 usage error, 3 configuration error, 4 some records failed,
  5 sync skipped a resource another run was importing, and nothing else failed
  (--wait <seconds> waits for that run to finish first; default 0), 130 interrupted (Ctrl-C)
`;

/** Edit distance, for did-you-mean hints. */
export function editDistance(a: string, b: string): number {
  const row = Array.from({ length: b.length + 1 }, (_, j) => j);
  for (let i = 1; i <= a.length; i++) {
    let diagonal = row[0]!;
    row[0] = i;
    for (let j = 1; j <= b.length; j++) {
      const above = row[j]!;
      row[j] = Math.min(row[j]! + 1, row[j - 1]! + 1, diagonal + (a[i - 1] === b[j - 1] ? 0 : 1));
      diagonal = above;
    }
  }
  return row[b.length]!;
}

/** The candidate closest to `input`, when it is close enough to be a typo (or `input` is a prefix of it). */
export function closest(input: string, candidates: readonly string[]): string | undefined {
  let best: string | undefined;
  let bestDistance = Infinity;
  for (const candidate of candidates) {
    const distance = candidate.startsWith(input) && input.length >= 2 ? 0.5 : editDistance(input, candidate);
    if (distance < bestDistance) { best = candidate; bestDistance = distance; }
  }
  return best !== undefined && bestDistance <= Math.max(2, Math.floor(input.length / 3)) ? best : undefined;
}
