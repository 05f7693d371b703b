import { stringifyShopifyJson } from '../json.js';

/** PostgreSQL type of a batch column; each column travels as one array parameter of this type. */
export type PgType = 'bigint' | 'text' | 'integer' | 'numeric' | 'timestamptz' | 'boolean' | 'jsonb';

/** The column holding a bulk operation's tag, on tables that take part in bulk child matching. */
export const SYNC_TAG = 'sync_tag';

export interface ColumnSpec<R> {
  /** Column name in the table. */
  column: string;
  type: PgType;
  value: (row: R) => unknown;
}

/**
 * Encodes one value as the text PostgreSQL parses for `type`, or null.
 *
 * Why text: every value travels as a JSON string and is parsed by PostgreSQL's input function of
 * its column type, which keeps bigints above 2^53 and decimal strings exact and makes times
 * unambiguous (ISO 8601 with `Z`), whatever the driver adapter does with JS bigint/Date values
 * (PGlite's adapter formats a Date without its time zone).
 */
export function encodeValue(value: unknown, type: PgType): string | null {
  if (value === null || value === undefined) return null;
  switch (type) {
    case 'timestamptz':
      return value instanceof Date ? value.toISOString() : String(value);
    case 'boolean':
      return value ? 'true' : 'false';
    case 'jsonb':
      return typeof value === 'string' ? value : stringifyShopifyJson(value);
    default:
      return typeof value === 'string' ? value : String(value);
  }
}

/**
 * A whole batch as ONE parameter: a JSON array with one object per row, keyed by the column's
 * position in base 36 (`"0"`, `"1"`, ...: short keys are less to send and to parse, about 5 % of a
 * customer batch), every value a JSON string (or `null`) holding {@link encodeValue}'s text. Read
 * back with {@link recordsetFrom}, which names the columns again.
 *
 * Why not one array parameter per column (`unnest($2::bigint[], ...)`): the driver escapes every
 * element into PostgreSQL's array literal syntax in JavaScript, which for batches of large JSON
 * payloads cost about four times the CPU of `JSON.stringify` (measured: 200 ms against 50 ms per
 * 250 orders), and PostgreSQL parses the JSON no slower than the array literals. (Sending the
 * JSON as bytes instead, to dodge Prisma's own JSON round trip of raw-query parameters, measured
 * slower: base64 both ways costs more than the escaping it saves.)
 *
 * jsonb values travel as JSON strings too (escaped, never spliced in raw), so a payload can never
 * change the row's other fields whatever text it holds.
 */
export function recordsetJson<R>(columns: readonly ColumnSpec<R>[], rows: readonly R[]): string {
  const keys = columns.map((_, i) => `"${i.toString(36)}":`);
  const bare = columns.map((c) => BARE_JSON_TYPES.has(c.type));
  let out = '[';
  for (let r = 0; r < rows.length; r++) {
    const row = rows[r];
    out += r === 0 ? '{' : ',{';
    for (let c = 0; c < columns.length; c++) {
      const text = encodeValue(columns[c].value(row), columns[c].type);
      out += (c === 0 ? '' : ',') + keys[c] + (text === null ? 'null' : bare[c] ? text : JSON.stringify(text));
    }
    out += '}';
  }
  return `${out}]`;
}

/**
 * Types whose {@link encodeValue} text is always a valid JSON literal (`true`/`false`), so it goes
 * into the JSON bare. Every other value is a JSON string: a string given for a bigint column, say,
 * can then never break out of its field, and the column's input function rejects it if malformed.
 */
const BARE_JSON_TYPES = new Set<PgType>(['boolean']);

/**
 * `(SELECT alias."0" AS "col", ... FROM json_to_recordset($n::json) AS alias("0" type, ...)) AS alias` for a
 * parameter made by {@link recordsetJson}: PostgreSQL converts each value with its column type's
 * input function (jsonb values arrive as JSON strings and are cast from text).
 */
export function recordsetFrom<R>(columns: readonly ColumnSpec<R>[], param: number, alias: string): string {
  const select = columns.map((c, i) => `${alias}."${i.toString(36)}"${c.type === 'jsonb' ? '::jsonb' : ''} AS "${c.column}"`).join(', ');
  const fields = columns.map((c, i) => `"${i.toString(36)}" ${c.type === 'jsonb' ? 'text' : c.type}`).join(', ');
  return `(SELECT ${select} FROM json_to_recordset($${param}::json) AS ${alias}(${fields})) AS ${alias}`;
}

export const quoteColumns = (columns: readonly { column: string }[], prefix = ''): string =>
  columns.map((c) => `${prefix}"${c.column}"`).join(', ');

/** `"a" = excluded."a", ...` for the columns an upsert overwrites. */
export const setExcluded = (columns: readonly { column: string }[]): string =>
  columns.map((c) => `"${c.column}" = excluded."${c.column}"`).join(', ');

/** A column spec: `column` of PostgreSQL `type`, read from a row by `value`. */
export function col<R>(column: string, type: PgType, value: (row: R) => unknown): ColumnSpec<R> {
  return { column, type, value };
}
