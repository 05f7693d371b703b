/**
 * Streams a bulk operation's JSONL result: fetch body -> line splitter, one line at a time, pulled
 * by the consumer (backpressure: the next chunk is read only when the lines of the last one are
 * taken), never holding the file. A download cut off midway is resumed from the last line handed
 * out, with an HTTP `Range` request where the server honours it (206) and by skipping the lines
 * already read where it does not (200): Shopify's result URLs are signed cloud-storage links, valid
 * for 7 days. https://shopify.dev/docs/api/usage/bulk-operations/queries#download-result-data
 */
import { ShopifyIngestError } from '../errors.js';
import { silentLogger, type Logger } from '../logger.js';

/** Where a file was read up to: whole lines and the bytes they took (newlines included). */
export interface JsonlPosition {
  line: number;
  byte: number;
}

/** One line of the file: its text (no newline), its number (1-based) and the position after it. */
export interface JsonlLine {
  text: string;
  line: number;
  end: JsonlPosition;
}

export interface ReadJsonlOptions {
  /** Resume after this position (default: from the start). */
  from?: JsonlPosition;
  fetch?: typeof globalThis.fetch;
  signal?: AbortSignal;
  logger?: Logger;
  /** Attempts after a dropped connection or a 5xx (default 5). */
  retries?: number;
  sleep?: (ms: number) => Promise<void>;
}

const NEWLINE = 0x0a;

/**
 * Whole lines of the file as they arrive: each run holds the bytes of one or more lines (newlines
 * included; the file's last line may lack one), with the position before its first line and after
 * its last. The bytes are the run's own (a copy where lines spanned chunks, else a view of the
 * chunk): they may be handed to another thread. See {@link readJsonl} for errors and resuming.
 */
export async function* readJsonlRuns(url: string, options: ReadJsonlOptions = {}): AsyncGenerator<JsonlRun, void, undefined> {
  const fetchImpl = options.fetch ?? globalThis.fetch;
  const logger = options.logger ?? silentLogger;
  const sleep = options.sleep ?? ((ms: number) => new Promise<void>((r) => setTimeout(r, ms)));
  const retries = options.retries ?? 5;
  let position: JsonlPosition = options.from ?? { line: 0, byte: 0 };
  let failures = 0;

  for (;;) {
    let response: Response;
    try {
      response = await fetchImpl(url, { headers: position.byte > 0 ? { range: `bytes=${position.byte}-` } : {}, signal: options.signal });
    } catch (error) {
      if (options.signal?.aborted) throw error;
      failures = await retryOrThrow(error, failures, retries, sleep, logger, url);
      continue;
    }
    if (response.status === 403 || response.status === 404 || response.status === 410 || (response.status === 400 && await saysExpired(response))) {
      await response.body?.cancel().catch(() => {});
      throw new ShopifyIngestError('BULK_FILE_EXPIRED', `the bulk operation's result file is no longer available (HTTP ${response.status}); a new operation is needed`, { details: { status: response.status } });
    }
    if (response.status === 416 && position.byte > 0) {
      // Nothing after the position: the file ended exactly there.
      await response.body?.cancel().catch(() => {});
      return;
    }
    if (response.status >= 500 || (response.status !== 200 && response.status !== 206)) {
      await response.body?.cancel().catch(() => {});
      failures = await retryOrThrow(new Error(`HTTP ${response.status}`), failures, retries, sleep, logger, url);
      continue;
    }
    // 206: the body starts at position.byte. 200: the server ignored Range; skip what was read.
    let skipLines = response.status === 200 ? position.line : 0;
    let line = response.status === 200 ? 0 : position.line;
    let byte = response.status === 200 ? 0 : position.byte;
    if (!response.body) return;
    const reader = response.body.getReader();
    let pending: Uint8Array[] = [];
    let pendingBytes = 0;
    let completed = false;
    try {
      for (;;) {
        let chunk: ReadableStreamReadResult<Uint8Array>;
        try {
          chunk = await reader.read();
        } catch (error) {
          if (options.signal?.aborted) throw error;
          break; // dropped mid-body: resume from `position`
        }
        if (chunk.done) { completed = true; break; }
        const bytes = chunk.value;
        const last = bytes.lastIndexOf(NEWLINE);
        if (last === -1) {
          // Copy: the reader may reuse its buffer.
          pending.push(bytes.slice());
          pendingBytes += bytes.length;
          continue;
        }
        let run = pendingBytes > 0 ? concat([...pending, bytes.subarray(0, last + 1)], pendingBytes + last + 1) : bytes.subarray(0, last + 1);
        pending = [];
        pendingBytes = 0;
        if (last + 1 < bytes.length) {
          pending.push(bytes.slice(last + 1));
          pendingBytes = bytes.length - last - 1;
        }
        // Lines a 200 answer repeats from the start of the file are skipped.
        let start = 0;
        while (skipLines > 0 && start < run.length) {
          start = run.indexOf(NEWLINE, start) + 1;
          skipLines--;
          line++;
        }
        byte += start;
        run = run.subarray(start);
        if (run.length === 0) continue;
        const from = { line, byte };
        line += countNewlines(run);
        byte += run.length;
        position = { line, byte };
        failures = 0;
        yield { bytes: run, from, to: position };
      }
    } finally {
      reader.releaseLock?.();
    }
    if (completed) {
      if (pendingBytes > 0 && skipLines === 0) {
        // A last line without a newline.
        const from = { line, byte };
        position = { line: line + 1, byte: byte + pendingBytes };
        yield { bytes: concat(pending, pendingBytes), from, to: position };
      }
      return;
    }
    failures = await retryOrThrow(new Error('connection dropped mid-download'), failures, retries, sleep, logger, url);
  }
}

/** Bytes of whole lines of a bulk file, between two positions (see {@link readJsonlRuns}). */
export interface JsonlRun {
  bytes: Uint8Array;
  from: JsonlPosition;
  to: JsonlPosition;
}

/**
 * The lines of a run that hold something (an empty line is counted, not handed out; a last line
 * without a newline only when it is not blank), decoded as UTF-8.
 */
export function* linesOf(run: JsonlRun, decoder: TextDecoder = new TextDecoder('utf-8', { fatal: false })): Generator<JsonlLine, void, undefined> {
  const bytes = run.bytes;
  let { line, byte } = run.from;
  let start = 0;
  while (start < bytes.length) {
    let end = bytes.indexOf(NEWLINE, start);
    const terminated = end !== -1;
    if (!terminated) end = bytes.length;
    const text = decoder.decode(bytes.subarray(start, end));
    line++;
    byte += end - start + (terminated ? 1 : 0);
    start = end + 1;
    if (terminated ? text.length === 0 : text.trim().length === 0) continue;
    yield { text, line, end: { line, byte } };
  }
}

/**
 * Lines of the file at `url`. Throws `BULK_FILE_EXPIRED` when the link no longer works (HTTP 403,
 * 404 or 410, or a 400 saying the signature expired: the 7 days are over; a fresh operation is
 * needed) and `BULK_FILE_UNREADABLE` after the retries of a failing download.
 *
 * @example
 * ```ts
 * for await (const { text, end } of readJsonl(op.url!, { from: checkpoint })) {
 *   handle(JSON.parse(text));
 *   checkpoint = end;
 * }
 * ```
 */
export async function* readJsonl(url: string, options: ReadJsonlOptions = {}): AsyncGenerator<JsonlLine, void, undefined> {
  const decoder = new TextDecoder('utf-8', { fatal: false });
  for await (const run of readJsonlRuns(url, options)) yield* linesOf(run, decoder);
}

function countNewlines(bytes: Uint8Array): number {
  let n = 0;
  for (let i = bytes.indexOf(NEWLINE); i !== -1; i = bytes.indexOf(NEWLINE, i + 1)) n++;
  return n;
}

/**
 * Whether an error answer says the signed link expired: Google Cloud Storage (Shopify's result
 * files) may answer an expired signed URL with HTTP 400 and `<Code>ExpiredToken</Code>` or
 * "Request has expired" in its XML body. Reads at most 8 KiB of it.
 */
async function saysExpired(response: Response): Promise<boolean> {
  if (!response.body) return false;
  const reader = response.body.getReader();
  const decoder = new TextDecoder();
  let text = '';
  try {
    while (text.length < 8192) {
      const chunk = await reader.read();
      if (chunk.done) break;
      text += decoder.decode(chunk.value, { stream: true });
    }
  } catch {
    // A body cut off is read as far as it came.
  } finally {
    await reader.cancel().catch(() => {});
    reader.releaseLock();
  }
  return /ExpiredToken|Request has expired/i.test(text);
}

function concat(parts: Uint8Array[], length: number): Uint8Array {
  const out = new Uint8Array(length);
  let offset = 0;
  for (const part of parts) { out.set(part, offset); offset += part.length; }
  return out;
}

async function retryOrThrow(error: unknown, failures: number, retries: number, sleep: (ms: number) => Promise<void>, logger: Logger, url: string): Promise<number> {
  if (failures >= retries) {
    throw new ShopifyIngestError('BULK_FILE_UNREADABLE', `the bulk operation's result file could not be downloaded after ${failures + 1} attempts: ${(error as Error)?.message ?? String(error)}`, { cause: error, retryable: true });
  }
  const delay = Math.min(30_000, 1000 * 2 ** failures);
  logger.warn('bulk result download failed, resuming', { attempt: failures + 1, delayMs: delay, url: url.replace(/\?.*$/, '?…'), error });
  await sleep(delay);
  return failures + 1;
}
