import { recordsetFrom, recordsetJson } from './columns.js';
import type { StageSpec } from './copy-stage.js';

/** Where a statement reads one of its inputs from: a FROM item with the input's columns under `alias`. */
export type BatchSource = (alias: string) => string;

/**
 * A batch-write statement in its two forms, which the runner picks between (see `batchRunnerFor`):
 * - `json`: each input travels as ONE JSON parameter (`$2`, `$3`, ... in stage order, see
 *   {@link recordsetJson}) read by `json_to_recordset`: works on any client (Prisma's raw queries, PGlite);
 * - `staged`: each input is first streamed with COPY into its temporary staging table, and the
 *   statement reads the tables (the pg pool of a database handle, `createDatabaseHandle`).
 * Both take `$1` = the tenant id and do the same thing.
 */
export interface BatchStatement {
  stages: readonly StageSpec[];
  json: string;
  staged: string;
  /** `count`: the runner returns the statement's row count; `rows`: its rows. */
  result: 'count' | 'rows';
}

/** Builds both forms of a statement from one template over its inputs' sources. */
export function batchStatement(stages: readonly StageSpec[], result: BatchStatement['result'], build: (...sources: BatchSource[]) => string): BatchStatement {
  return {
    stages,
    result,
    json: build(...stages.map((s, k): BatchSource => (alias) => recordsetFrom(s.columns, k + 2, alias))),
    staged: build(...stages.map((s): BatchSource => (alias) => `"${s.name}" AS ${alias}`)),
  };
}

/** The JSON-parameter form's parameters for `inputs` (one row array per stage). */
export function jsonParams(statement: BatchStatement, tenantId: string, inputs: readonly (readonly unknown[])[]): unknown[] {
  return [tenantId, ...statement.stages.map((s, k) => recordsetJson(s.columns, inputs[k] as never[]))];
}
