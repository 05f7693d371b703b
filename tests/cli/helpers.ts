/** Running the CLI in-process (`main` with captured output) and as the built bin in a child process. */
import { execFile, spawn, type ChildProcessWithoutNullStreams } from 'node:child_process';
import { existsSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { Writable } from 'node:stream';
import { main } from '../../src/cli/index.js';

export const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');
export const BIN = path.join(root, 'dist/cli/index.js');

export interface Run { code: number; stdout: string; stderr: string }

export function capture(): { stream: Writable; text: () => string } {
  const chunks: string[] = [];
  const stream = new Writable({ write(chunk, _encoding, done) { chunks.push(String(chunk)); done(); } });
  return { stream, text: () => chunks.join('') };
}

/** `main(argv)` with captured stdout/stderr and the given environment (nothing from process.env). */
export async function cli(argv: string[], env: Record<string, string | undefined>): Promise<Run> {
  const out = capture();
  const err = capture();
  const code = await main(argv, { stdout: out.stream, stderr: err.stream, env });
  return { code, stdout: out.text(), stderr: err.text() };
}

/** The built bin as a child process; resolves when it exits. */
export function bin(argv: string[], env: Record<string, string>, options: { cwd?: string; timeoutMs?: number } = {}): Promise<Run & { ms: number }> {
  const started = performance.now();
  return new Promise((resolve) => {
    const execOptions = { cwd: options.cwd ?? root, env: { PATH: process.env.PATH ?? '', ...env } as unknown as NodeJS.ProcessEnv, timeout: options.timeoutMs ?? 60_000, encoding: 'utf8' as const };
    execFile(process.execPath, [BIN, ...argv], execOptions, (error: (Error & { code?: unknown }) | null, stdout: string, stderr: string) => {
      const code = error ? (typeof error.code === 'number' ? error.code : 1) : 0;
      resolve({ code, stdout, stderr, ms: Math.round(performance.now() - started) });
    });
  });
}

/** Spawns the bin with piped output (for signals). */
export function spawnBin(argv: string[], env: Record<string, string>): ChildProcessWithoutNullStreams {
  return spawn(process.execPath, [BIN, ...argv], { cwd: root, env: { PATH: process.env.PATH ?? '', ...env } as unknown as NodeJS.ProcessEnv });
}

/** Builds dist/ when a bare `vitest run` runs before any build (`npm test` builds first). */
export async function ensureBuilt(): Promise<void> {
  if (existsSync(BIN)) return;
  await new Promise<void>((resolve, reject) => execFile('npx', ['tsup'], { cwd: root, timeout: 280_000 }, (error) => (error ? reject(error) : resolve())));
}
