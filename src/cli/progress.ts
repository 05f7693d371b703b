/**
 * Progress output for long runs: a redrawn line on a TTY, plain periodic lines otherwise (CI logs).
 */
export interface ProgressLine {
  label: string;
  done: number;
  total?: number;
  ratePerSecond?: number;
  extra?: string;
}

export interface ProgressRenderer {
  update(key: string, line: ProgressLine): void;
  /** Prints the final state of a key on its own line. */
  finish(key: string, line: ProgressLine): void;
  close(): void;
}

export interface ProgressOptions {
  stream?: NodeJS.WriteStream;
  /** Plain-mode interval between lines for one key (ms). */
  plainIntervalMs?: number;
  now?: () => number;
  /** Force plain output (e.g. `--json` or CI). */
  plain?: boolean;
}

function format(line: ProgressLine): string {
  const width = 24;
  const count = line.total ? `${line.done}/${line.total}` : `${line.done}`;
  let bar = '';
  if (line.total && line.total > 0) {
    const filled = Math.min(width, Math.round((line.done / line.total) * width));
    bar = `[${'#'.repeat(filled)}${'.'.repeat(width - filled)}] `;
  }
  const rate = line.ratePerSecond !== undefined ? ` ${Math.round(line.ratePerSecond)}/s` : '';
  return `${line.label.padEnd(28)} ${bar}${count}${rate}${line.extra ? ` ${line.extra}` : ''}`;
}

/**
 * @example
 * ```ts
 * const progress = createProgress();
 * progress.update('acme/orders', { label: 'acme orders', done: 500, ratePerSecond: 1200 });
 * ```
 */
export function createProgress(options: ProgressOptions = {}): ProgressRenderer {
  const stream = options.stream ?? process.stderr;
  const tty = !options.plain && Boolean(stream.isTTY) && !process.env.CI;
  const now = options.now ?? Date.now;
  const interval = options.plainIntervalMs ?? 2000;
  const lastPrinted = new Map<string, number>();
  let current: string | undefined;
  return {
    update(key, line) {
      if (tty) {
        stream.write(`\r\x1b[2K${format(line)}`);
        current = key;
        return;
      }
      const last = lastPrinted.get(key) ?? 0;
      if (now() - last >= interval) {
        lastPrinted.set(key, now());
        stream.write(`${format(line)}\n`);
      }
    },
    finish(key, line) {
      if (tty && current) stream.write('\r\x1b[2K');
      current = undefined;
      lastPrinted.delete(key);
      stream.write(`${format(line)}\n`);
    },
    close() {
      if (tty && current) stream.write('\n');
      current = undefined;
    },
  };
}
