import type { ChunkPool, PgSessionClient, StageSpec } from './copy-stage.js';
import { CHUNK_BYTES, copyChunks } from './copy-stage.js';
import { quoteColumns } from './columns.js';

/**
 * A batch's statements and its tables' COPYs in one round trip: one simple Query message
 * (`BEGIN; SET LOCAL ...; COPY a FROM STDIN; COPY b FROM STDIN; ...; COMMIT`), with every table's
 * data and its CopyDone sent right behind it, before the server asks for them.
 *
 * Why: a COPY through pg-copy-streams is two round trips (its query, then its data once the server
 * sends CopyInResponse; CopyDone, then the server's ReadyForQuery), so a batch of three tables took
 * eight, and while the importer's event loop was busy parsing, each answer waited for it with the
 * server's connection idle. PostgreSQL runs the statements of a simple Query in order and reads each
 * COPY's data from the connection in order, so data sent early is simply read when its COPY runs.
 *
 * Failures (https://www.postgresql.org/docs/current/protocol-flow.html#PROTOCOL-COPY): a statement
 * PostgreSQL refuses ends the whole Query with its ErrorResponse (the rest of the string is not
 * run, the transaction is left failed) and the server drops the CopyData, CopyDone and CopyFail
 * messages that follow, so the caller rolls back as after any failed statement. A source that fails
 * while its table is sent fails that COPY (CopyFail) and the caller gets the source's error.
 */

/** One table of the trip: its rows, or their COPY text already made (encoded-rows.ts). */
export interface TripCopy {
  table: StageSpec<never>;
  rows: readonly unknown[];
  chunks?: Iterable<Buffer>;
}

/** What node-postgres hands a custom query (`submit(connection)`): its message writer and socket. */
interface PgConnection {
  query(text: string): void;
  stream: NodeJS.WritableStream & { cork(): void; uncork(): void; writableLength: number };
}

const COPY_DATA = 0x64; // 'd'
const COPY_DONE = Buffer.from([0x63, 0, 0, 0, 4]); // 'c', length 4
const COPY_FAIL = 0x66; // 'f'

function copyFailMessage(reason: string): Buffer {
  const text = Buffer.from(`${reason.replace(/\0/g, ' ')}\0`, 'utf8');
  const head = Buffer.allocUnsafe(5);
  head[0] = COPY_FAIL;
  head.writeUInt32BE(text.length + 4, 1);
  return Buffer.concat([head, text]);
}

/**
 * The custom query node-postgres runs (the interface pg-copy-streams implements): it writes the
 * Query message and the data itself, and pg hands it the server's answers.
 */
class OneTripQuery {
  readonly counts: number[] = [];
  readonly done: Promise<number[]>;
  private resolve!: (counts: number[]) => void;
  private reject!: (error: Error) => void;
  /** The first failure: the server's refusal, a lost connection, or a source that threw. */
  private failure: Error | undefined;
  /** The server answered for good (ReadyForQuery or an error): no more data is useful. */
  private answered = false;
  private wake: (() => void) | null = null;
  private sending: Promise<void> = Promise.resolve();

  constructor(readonly text: string, private readonly sources: readonly Iterable<Buffer>[], private readonly pool?: ChunkPool) {
    this.done = new Promise((resolve, reject) => { this.resolve = resolve; this.reject = reject; });
  }

  submit(connection: PgConnection): void {
    const stream = connection.stream;
    stream.cork();
    connection.query(this.text);
    this.sending = this.send(stream);
  }

  /** Every source's chunks as CopyData messages, each followed by CopyDone; held back (corked) and handed to the socket in writes of about {@link CHUNK_BYTES}. */
  private async send(stream: PgConnection['stream']): Promise<void> {
    let corked = true;
    try {
      for (const source of this.sources) {
        for (const chunk of source) {
          if (this.answered) return;
          const head = Buffer.allocUnsafe(5);
          head[0] = COPY_DATA;
          head.writeUInt32BE(chunk.length + 4, 1);
          stream.write(head);
          // Given back once the socket has written it (or failed to: a destroyed socket calls back with an error).
          const room = this.pool ? stream.write(chunk, () => this.pool!.give(chunk)) : stream.write(chunk);
          if (!room || stream.writableLength >= CHUNK_BYTES) {
            stream.uncork();
            corked = false;
            if (!room) await this.drained(stream);
            if (this.answered) return;
            stream.cork();
            corked = true;
          }
        }
        stream.write(COPY_DONE);
      }
    } catch (error) {
      this.failure ??= error as Error;
      if (!this.answered) stream.write(copyFailMessage((error as Error).message ?? 'source failed'));
    } finally {
      if (corked) stream.uncork(); // a socket already destroyed ignores it
    }
  }

  private drained(stream: PgConnection['stream']): Promise<void> {
    return new Promise((resolve) => {
      const go = () => { stream.removeListener('drain', go); this.wake = null; resolve(); };
      this.wake = go;
      stream.once('drain', go);
    });
  }

  // ---- node-postgres' side: the server's answers ----
  callback(): void { /* pg's query timeout wraps this; the answer is `done` */ }
  handleCopyInResponse(): void { /* the data is already on its way */ }
  handleCommandComplete(message: { text?: string }): void {
    const copied = /^COPY (\d+)/.exec(message?.text ?? '');
    if (copied) this.counts.push(Number(copied[1]));
  }
  handleRowDescription(): void {}
  handleDataRow(): void {}
  handleEmptyQuery(): void {}
  handlePortalSuspended(): void {}
  handleCopyData(): void {}

  handleError(error: Error): void {
    this.failure ??= error;
    this.finish();
  }

  handleReadyForQuery(): void {
    this.finish();
  }

  private finish(): void {
    if (this.answered) return;
    this.answered = true;
    this.wake?.();
    // Settled once the sender stopped, so the caller's next statement (its ROLLBACK) follows whatever it wrote.
    const settle = () => (this.failure ? this.reject(this.failure) : this.resolve(this.counts));
    void this.sending.catch((error: Error) => { this.failure ??= error; }).then(settle);
  }
}

/**
 * Runs `leading` statements (`BEGIN; SET LOCAL ...`; DDL), a COPY into each table with rows, then
 * `trailing` (`COMMIT`, or nothing to leave the transaction open), in one round trip. Resolves with
 * each COPY's row count; rejects with the first failure (the transaction is then failed or gone:
 * roll back).
 */
export function copyInOneTrip(client: PgSessionClient, leading: string, copies: readonly TripCopy[], trailing = '', pool?: ChunkPool): Promise<number[]> {
  const present = copies.filter((c) => c.rows.length > 0);
  const statements = [leading, ...present.map((c) => `COPY "${c.table.name}" (${quoteColumns(c.table.columns)}) FROM STDIN`), trailing].filter((s) => s !== '');
  const query = new OneTripQuery(statements.join('; '), present.map((c) => c.chunks ?? copyChunks(c.table.columns, c.rows as never[], pool)), pool);
  (client as unknown as { query(q: OneTripQuery): unknown }).query(query);
  return query.done;
}
