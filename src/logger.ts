/**
 * The logger interface the SDK writes to. pino and winston loggers fit it as they are.
 * Fields passed as `meta` must never contain access tokens or PII; {@link redact} is applied
 * by the default logger as a second line of defence.
 */
export interface Logger {
  /** Detail for debugging. */
  debug(message: string, meta?: Record<string, unknown>): void;
  /** Normal operation. */
  info(message: string, meta?: Record<string, unknown>): void;
  /** Something to look at; the SDK carried on. */
  warn(message: string, meta?: Record<string, unknown>): void;
  /** Something failed. */
  error(message: string, meta?: Record<string, unknown>): void;
}

/** Log levels, least to most severe; `silent` logs nothing. */
export type LogLevel = 'debug' | 'info' | 'warn' | 'error' | 'silent';

const LEVELS: Record<LogLevel, number> = { debug: 10, info: 20, warn: 30, error: 40, silent: 100 };

/** Keys whose values are never written, whatever logger is used. */
const SECRET_KEYS = /(token|secret|password|authorization|cookie|email|phone|first_?name|last_?name|address(es|1|2)?|hmac|api_?key|encryption_?key|zip|company)$/i;
/** Secrets that can hide inside free text (error messages, URLs): Shopify tokens and bearer credentials. */
const SECRET_TEXT = /(shp(at|ca|pa|ss|ua)_[A-Za-z0-9]+|Bearer\s+[A-Za-z0-9._~+/=-]+|[A-Za-z0-9._%+-]+@[A-Za-z0-9.-]+\.[A-Za-z]{2,})/g;
const MAX_DEPTH = 6;

/** `text` with Shopify tokens, bearer credentials and email addresses masked. */
export function redactText(text: string): string {
  return text.replace(SECRET_TEXT, '[redacted]');
}

function redactValue(value: unknown, depth: number, seen: WeakSet<object>): unknown {
  if (typeof value === 'string') return redactText(value);
  if (typeof value === 'bigint') return value.toString();
  if (value === null || typeof value !== 'object') return value;
  if (seen.has(value)) return '[circular]';
  if (depth >= MAX_DEPTH) return '[truncated]';
  seen.add(value);
  if (value instanceof Error) {
    return { name: value.name, message: redactText(value.message), code: (value as { code?: unknown }).code };
  }
  if (value instanceof Date) return value.toISOString();
  if (Array.isArray(value)) return value.map((item) => redactValue(item, depth + 1, seen));
  const out: Record<string, unknown> = {};
  for (const [key, item] of Object.entries(value)) {
    out[key] = SECRET_KEYS.test(key) ? '[redacted]' : redactValue(item, depth + 1, seen);
  }
  return out;
}

/**
 * Returns a copy of `meta` with secret and PII fields replaced by `[redacted]`, at any depth, and
 * Shopify tokens, bearer credentials and email addresses masked inside strings and error messages.
 */
export function redact(meta: Record<string, unknown> | undefined): Record<string, unknown> | undefined {
  if (!meta) return meta;
  return redactValue(meta, 0, new WeakSet()) as Record<string, unknown>;
}

/** Options of {@link createJsonLogger}. */
export interface JsonLoggerOptions {
  /** Minimum level; defaults to `LOG_LEVEL` or `info`. */
  level?: LogLevel;
  /** Where lines go; defaults to stderr. */
  write?: (line: string) => void;
  /** Clock, for deterministic tests. */
  now?: () => Date;
  /** Fields added to every line. */
  base?: Record<string, unknown>;
}

/**
 * Structured JSON lines logger: the default.
 *
 * @example
 * ```ts
 * const logger = createJsonLogger({ level: 'debug' });
 * logger.info('sync finished', { tenantId: 't1', imported: 10 });
 * ```
 */
export function createJsonLogger(options: JsonLoggerOptions = {}): Logger {
  const envLevel = (typeof process !== 'undefined' ? process.env.LOG_LEVEL : undefined) as LogLevel | undefined;
  const level = options.level ?? (envLevel && envLevel in LEVELS ? envLevel : 'info');
  const threshold = LEVELS[level];
  const write = options.write ?? ((line: string) => process.stderr.write(line + '\n'));
  const now = options.now ?? (() => new Date());
  const log = (lvl: Exclude<LogLevel, 'silent'>) => (message: string, meta?: Record<string, unknown>) => {
    if (LEVELS[lvl] < threshold) return;
    write(JSON.stringify({ time: now().toISOString(), level: lvl, msg: redactText(message), ...options.base, ...redact(meta) }));
  };
  return { debug: log('debug'), info: log('info'), warn: log('warn'), error: log('error') };
}

/** A logger that drops everything. */
export const silentLogger: Logger = Object.freeze({ debug() {}, info() {}, warn() {}, error() {} });
