/**
 * Progress of long runs, three ways:
 * - on a terminal, one live bar per resource (label, done/total, rate, ETA), drawn by cli-progress;
 * - with `--json`, one JSON event per line, for programs;
 * - otherwise (CI logs, pipes), a plain line per resource every few seconds and one when it ends.
 */
import cliProgress from 'cli-progress';

/** The state of one resource's run, as the importer reports it. */
export interface ProgressLine {
  label: string;
  done: number;
  /** Records the listing holds, once known (Shopify's count endpoints). */
  total?: number;
  ratePerSecond?: number;
  extra?: string;
}

/** Draws progress; `update` often, `finish` once per key, `close` at the end. */
export interface ProgressRenderer {
  update(key: string, line: ProgressLine): void;
  /** Prints the final state of a key on its own line. */
  finish(key: string, line: ProgressLine): void;
  close(): void;
}

/** Where and how progress is drawn. */
export interface ProgressOptions {
  stream?: NodeJS.WritableStream & { isTTY?: boolean };
  /** Plain-mode interval between lines for one key (ms, default 2000); also the JSON-mode interval (default 500). */
  plainIntervalMs?: number;
  now?: () => number;
  /** Force plain lines, even on a terminal. */
  plain?: boolean;
  /** One JSON event per line (`{"type":"progress",...}`) instead of text. */
  json?: boolean;
  /** Environment (CI=true forces plain lines; default `process.env`). */
  env?: Record<string, string | undefined>;
}

/** Seconds left at the current rate, when it can be told. */
export function etaSeconds(line: ProgressLine): number | undefined {
  if (line.total === undefined || !line.ratePerSecond || line.ratePerSecond <= 0) return undefined;
  return Math.max(0, Math.ceil((line.total - line.done) / line.ratePerSecond));
}

/** `95s` → `1m35s`. */
export function formatDuration(seconds: number): string {
  if (seconds < 60) return `${seconds}s`;
  const minutes = Math.floor(seconds / 60);
  if (minutes < 60) return `${minutes}m${String(seconds % 60).padStart(2, '0')}s`;
  return `${Math.floor(minutes / 60)}h${String(minutes % 60).padStart(2, '0')}m`;
}

/** One line of text for a resource: `acme orders  [#####.....] 500/1200  250/s  ETA 3s  imported 498`. */
export function formatLine(line: ProgressLine, barWidth = 24): string {
  const count = line.total !== undefined ? `${line.done}/${line.total}` : `${line.done}`;
  let bar = '';
  if (line.total !== undefined && line.total > 0) {
    const filled = Math.min(barWidth, Math.round((line.done / line.total) * barWidth));
    bar = `[${'#'.repeat(filled)}${'.'.repeat(barWidth - filled)}] `;
  }
  const rate = line.ratePerSecond !== undefined ? `  ${Math.round(line.ratePerSecond)}/s` : '';
  const eta = etaSeconds(line);
  return `${line.label.padEnd(24)} ${bar}${count}${rate}${eta !== undefined ? `  ETA ${formatDuration(eta)}` : ''}${line.extra ? `  ${line.extra}` : ''}`;
}

/**
 * Picks the renderer for the stream: bars on a TTY, JSON lines with `json`, plain lines otherwise.
 *
 * @example
 * ```ts
 * const progress = createProgress({ stream: process.stderr });
 * progress.update('acme/orders', { label: 'acme orders', done: 500, total: 1200, ratePerSecond: 250 });
 * progress.finish('acme/orders', { label: 'acme orders', done: 1200, total: 1200 });
 * progress.close();
 * ```
 */
export function createProgress(options: ProgressOptions = {}): ProgressRenderer {
  const stream = options.stream ?? process.stderr;
  const env = options.env ?? process.env;
  if (options.json) return jsonProgress(stream, options.now ?? Date.now, options.plainIntervalMs ?? 500);
  const tty = !options.plain && Boolean(stream.isTTY) && !env.CI;
  return tty ? barProgress(stream) : plainProgress(stream, options.now ?? Date.now, options.plainIntervalMs ?? 2000);
}

function plainProgress(stream: NodeJS.WritableStream, now: () => number, interval: number): ProgressRenderer {
  const lastPrinted = new Map<string, { at: number; done: number; extra?: string }>();
  return {
    update(key, line) {
      const last = lastPrinted.get(key);
      // The first event is printed at once, so a slow first page still shows the run started.
      if (last === undefined || now() - last.at >= interval) {
        lastPrinted.set(key, { at: now(), done: line.done, extra: line.extra });
        stream.write(`${formatLine(line)}\n`);
      }
    },
    finish(key, line) {
      const last = lastPrinted.get(key);
      lastPrinted.delete(key);
      // A run that ended right after its last printed line would print the same count twice.
      if (last && last.done === line.done && last.extra === line.extra) return;
      stream.write(`${formatLine(line)}\n`);
    },
    close() {},
  };
}

function jsonProgress(stream: NodeJS.WritableStream, now: () => number, interval: number): ProgressRenderer {
  const lastPrinted = new Map<string, number>();
  const write = (key: string, line: ProgressLine, done: boolean) => {
    const eta = etaSeconds(line);
    stream.write(`${JSON.stringify({
      type: 'progress', key, label: line.label, done: line.done, ...(line.total !== undefined ? { total: line.total } : {}),
      ratePerSecond: line.ratePerSecond ?? null, etaSeconds: eta ?? null, finished: done,
    })}\n`);
  };
  return {
    update(key, line) {
      const last = lastPrinted.get(key);
      if (last === undefined || now() - last >= interval) {
        lastPrinted.set(key, now());
        write(key, line, false);
      }
    },
    finish(key, line) {
      lastPrinted.delete(key);
      write(key, line, true);
    },
    close() {},
  };
}

function barProgress(stream: NodeJS.WritableStream): ProgressRenderer {
  const multibar = new cliProgress.MultiBar({
    stream,
    hideCursor: true,
    clearOnComplete: false,
    stopOnComplete: false,
    fps: 10,
    format: (_options, params, payload: { line?: ProgressLine }) => formatLine(payload.line ?? { label: '', done: params.value }),
  });
  const bars = new Map<string, cliProgress.SingleBar>();
  const draw = (key: string, line: ProgressLine) => {
    const bar = bars.get(key);
    const total = line.total ?? Math.max(line.done, 1);
    if (!bar) bars.set(key, multibar.create(total, line.done, { line }));
    else {
      bar.setTotal(total);
      bar.update(line.done, { line });
    }
  };
  return {
    update: draw,
    finish(key, line) { draw(key, line); },
    close() { multibar.stop(); },
  };
}
