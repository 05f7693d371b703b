import { ShopifyIngestError } from '../errors.js';

/** One secret found in captured output. */
export interface SecretLeak {
  /** Index of the line it was found in. */
  line: number;
  /** The secret, masked (first characters only), so a report does not leak it again. */
  secret: string;
  /** How it appeared: as is, JSON-escaped, URL-encoded or base64. */
  form: 'raw' | 'json' | 'url' | 'base64';
}

const mask = (s: string) => `${s.slice(0, 3)}***(${s.length} chars)`;

function formsOf(secret: string): Array<[SecretLeak['form'], string]> {
  const forms: Array<[SecretLeak['form'], string]> = [
    ['raw', secret],
    ['json', JSON.stringify(secret).slice(1, -1)],
    ['url', encodeURIComponent(secret)],
    ['base64', Buffer.from(secret, 'utf8').toString('base64').replace(/=+$/, '')],
  ];
  return forms.filter(([, value], i) => forms.findIndex(([, v]) => v === value) === i);
}

/**
 * Finds secrets (tokens, keys, PII values) in captured log lines, as written or in the encodings a
 * logger or serializer might apply.
 *
 * @example
 * ```ts
 * findSecrets(lines, ['shpat_abc123', 'jane@example.com']); // [] when nothing leaked
 * ```
 */
export function findSecrets(lines: readonly string[], secrets: readonly string[]): SecretLeak[] {
  const leaks: SecretLeak[] = [];
  for (const secret of secrets) {
    // Very short values (e.g. a 2-letter province code) would match unrelated text.
    if (typeof secret !== 'string' || secret.length < 4) continue;
    const forms = formsOf(secret);
    lines.forEach((line, index) => {
      for (const [form, value] of forms) {
        if (line.includes(value)) { leaks.push({ line: index, secret: mask(secret), form }); break; }
      }
    });
  }
  return leaks;
}

/**
 * Throws if any secret appears in the captured lines; the error names the lines and masks the
 * secrets. For tests of any module that logs.
 *
 * @example
 * ```ts
 * const lines: string[] = [];
 * const logger = createJsonLogger({ write: (l) => lines.push(l) });
 * await doSomething({ logger });
 * assertNoSecrets(lines, [accessToken, customerEmail]);
 * ```
 */
export function assertNoSecrets(lines: readonly string[], secrets: readonly string[]): void {
  const leaks = findSecrets(lines, secrets);
  if (leaks.length > 0) {
    const list = leaks.map((l) => `line ${l.line}: ${l.secret} (${l.form})`).join('; ');
    throw new ShopifyIngestError('SECRETS_IN_LOGS', `secrets found in log output: ${list}`);
  }
}
