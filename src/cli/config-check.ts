/**
 * The configuration a command needs, checked before it opens a database or a socket: a wrong
 * `DATABASE_URL` (say `mysql://`) or a malformed `ENCRYPTION_KEY` is reported at once, all problems
 * in one message, instead of after a connection attempt, or never (by falling back to the embedded
 * database).
 */
import { ConfigError } from '../errors.js';
import { loadConfig } from '../config/index.js';
import type { CommandSpec } from './spec.js';

const POSTGRES_URL = /^postgres(ql)?:\/\//i;

/** Throws one {@link ConfigError} listing every problem (`details.errors`). */
export function checkConfiguration(spec: CommandSpec, values: Record<string, string | boolean | undefined>, env: Record<string, string | undefined>): void {
  const errors: string[] = [];
  const flagUrl = typeof values['database-url'] === 'string' ? values['database-url'] : undefined;
  if (flagUrl !== undefined && !POSTGRES_URL.test(flagUrl)) {
    // The URL may hold a password: only its scheme is echoed.
    errors.push(`--database-url must be a postgres:// or postgresql:// URL (got ${flagUrl.split(':')[0]}:...)`);
  }
  try {
    loadConfig({}, env, { require: spec.requires });
  } catch (error) {
    if (!(error instanceof ConfigError)) throw error;
    const listed = (error.details.errors as string[] | undefined) ?? [error.message];
    // DATABASE_URL does not matter when --database-url replaces it, or --data-dir (the embedded database) wins over it.
    const urlIgnored = flagUrl !== undefined || typeof values['data-dir'] === 'string';
    errors.push(...listed.filter((e) => !(urlIgnored && e.startsWith('DATABASE_URL'))));
  }
  if (errors.length > 0) {
    throw new ConfigError(`invalid configuration for \`shopify-ingest ${spec.name}\`:\n  - ${errors.join('\n  - ')}`, { details: { errors } });
  }
}
