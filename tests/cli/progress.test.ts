/**
 * The three progress renderers: bars on a terminal (cli-progress), JSON lines, plain lines.
 */
import { describe, expect, it } from 'vitest';
import { Writable } from 'node:stream';
import { createProgress, etaSeconds, formatDuration, formatLine } from '../../src/cli/progress.js';

function stream(tty: boolean): Writable & { isTTY?: boolean; columns?: number; text(): string } {
  const chunks: string[] = [];
  const s = new Writable({ write(chunk, _e, done) { chunks.push(String(chunk)); done(); } }) as Writable & { isTTY?: boolean; columns?: number; text(): string };
  if (tty) {
    s.isTTY = true;
    s.columns = 120;
  }
  s.text = () => chunks.join('');
  return s;
}

describe('progress', () => {
  it('a line has the label, done/total, a bar, the rate and the ETA', () => {
    const line = { label: 'acme orders', done: 500, total: 1200, ratePerSecond: 250, extra: 'imported 498' };
    expect(etaSeconds(line)).toBe(3);
    expect(formatLine(line)).toMatch(/^acme orders\s+\[#{10}\.{14}\] 500\/1200 {2}250\/s {2}ETA 3s {2}imported 498$/);
    expect(formatLine({ label: 'acme orders', done: 10 })).toMatch(/^acme orders\s+10$/);
    expect(etaSeconds({ label: 'x', done: 10, total: 100, ratePerSecond: 0 })).toBeUndefined();
    expect(formatDuration(95)).toBe('1m35s');
    expect(formatDuration(3725)).toBe('1h02m');
  });

  it('on a terminal, cli-progress draws one live bar per resource', () => {
    const out = stream(true);
    const progress = createProgress({ stream: out, env: {} });
    progress.update('acme/orders', { label: 'acme orders', done: 100, total: 400, ratePerSecond: 100 });
    progress.update('acme/customers', { label: 'acme customers', done: 7, ratePerSecond: 7 });
    progress.update('acme/orders', { label: 'acme orders', done: 300, total: 400, ratePerSecond: 150 });
    progress.finish('acme/orders', { label: 'acme orders', done: 400, total: 400, ratePerSecond: 160 });
    progress.close();
    const text = out.text();
    // cli-progress redraws in place: cursor to column 1, erase to the end of the line.
    expect(text).toContain('\x1b[1G');
    expect(text).toContain('\x1b[0K');
    expect(text).toMatch(/acme orders\s+\[#{24}\] 400\/400 {2}160\/s {2}ETA 0s/);
    expect(text).toMatch(/acme customers\s+7 {2}7\/s/);
  });

  it('with --json, one JSON event per line: throttled updates, every finish', () => {
    const out = stream(false);
    let now = 0;
    const progress = createProgress({ stream: out, json: true, now: () => now, env: {} });
    progress.update('t/orders', { label: 't orders', done: 100, total: 300, ratePerSecond: 100 });
    now = 100;
    progress.update('t/orders', { label: 't orders', done: 200, total: 300, ratePerSecond: 100 }); // within 500 ms: dropped
    now = 700;
    progress.update('t/orders', { label: 't orders', done: 250, total: 300, ratePerSecond: 100 });
    progress.finish('t/orders', { label: 't orders', done: 300, total: 300, ratePerSecond: 100 });
    const events = out.text().trim().split('\n').map((l) => JSON.parse(l) as Record<string, unknown>);
    expect(events).toEqual([
      { type: 'progress', key: 't/orders', label: 't orders', done: 100, total: 300, ratePerSecond: 100, etaSeconds: 2, finished: false },
      { type: 'progress', key: 't/orders', label: 't orders', done: 250, total: 300, ratePerSecond: 100, etaSeconds: 1, finished: false },
      { type: 'progress', key: 't/orders', label: 't orders', done: 300, total: 300, ratePerSecond: 100, etaSeconds: 0, finished: true },
    ]);
  });

  it('without a terminal (or with CI set), plain lines every interval and one at the end', () => {
    for (const [tty, env] of [[false, {}], [true, { CI: 'true' }]] as const) {
      const out = stream(tty);
      let now = 0;
      const progress = createProgress({ stream: out, now: () => now, plainIntervalMs: 2000, env });
      progress.update('k', { label: 'acme orders', done: 1, total: 10 });
      now = 1000;
      progress.update('k', { label: 'acme orders', done: 5, total: 10 });
      now = 2500;
      progress.update('k', { label: 'acme orders', done: 8, total: 10 });
      progress.finish('k', { label: 'acme orders', done: 10, total: 10 });
      const lines = out.text().trim().split('\n');
      expect(lines.map((l) => /(\d+)\/10/.exec(l)![1])).toEqual(['1', '8', '10']);
      expect(out.text()).not.toContain('\x1b');
    }
  });
});
