/** Messages between a bulk file's reader (bulk-file-worker.ts) and its worker thread (bulk-worker.ts). */
import type { JsonlPosition } from './jsonl.js';
import type { TransformerSpec } from '../transform/transformer.js';

/** A position in the file and the records (root lines) read up to it. */
export interface WorkerPosition { line: number; byte: number; roots: number }

/** Bytes of the buffers units are sent in (a unit larger than this gets one of its own, not reused). */
export const OUT_BYTES = 64 * 1024;
/** Messages of units the worker sends before the main thread has taken them. */
export const UNITS_IN_FLIGHT = 3;
/** Runs of lines the main thread sends before the worker has read them. */
export const RUNS_IN_FLIGHT = 4;

export interface WorkerInit {
  resource: string;
  /** Index of the resource's GraphQL listing being run (`graphqlSourcesOf`). */
  source: number;
  tenantId: string;
  tag: string;
  /** When the operation was asked for (ms), stamped on versioned rows; null: not stamped. */
  observedAt: number | null;
  transformer: TransformerSpec;
  /** Child tables counted on the root row by the regroup window. */
  counted: string[];
  regroupLines: number;
  maxLateParents: number;
  /** Where reading starts. */
  from: WorkerPosition;
  /**
   * The file's link, when the worker downloads it itself (the run's fetch is the global one); else
   * the calling thread downloads it and sends runs of lines.
   */
  url: string | null;
}

export type ToWorker =
  | { type: 'run'; bytes: ArrayBuffer; from: JsonlPosition; to: JsonlPosition }
  | { type: 'end' }
  | { type: 'taken' }
  | { type: 'recycle'; buffer: ArrayBuffer };

export type FromWorker =
  /** A run of lines was read (the main thread may send another). */
  | { type: 'read' }
  /**
   * Units in pipeline order. `meta` (Float64Array) per unit: records, position (line, byte, roots),
   * row count (-1: no rows), then per row: table index (root first, then children in order), offset
   * and length in `bytes`; `ids` (BigInt64Array) per unit: provides, requires (-1: none).
   */
  | { type: 'units'; meta: ArrayBuffer; ids: ArrayBuffer; bytes: ArrayBuffer; failures: Array<{ unit: number; shopifyId: string | null; reason: string }> }
  | { type: 'done'; unknown: number; late: bigint[] | null }
  /** A line that stops the file (`line`), the download's typed error (`code`), or the worker's own failure. */
  | { type: 'error'; line: number | null; message: string; code?: string; details?: Record<string, unknown>; retryable?: boolean }
  /** A line the download logged (a retried request). */
  | { type: 'log'; level: 'warn' | 'info' | 'debug'; message: string; meta?: Record<string, unknown> };
