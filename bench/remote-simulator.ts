/**
 * The simulator in a child process (bench/client-simulator-process.ts), so serving requests does not
 * compete with the measured client's event loop (Shopify is remote, after all). Used by
 * bench/client.ts and bench/graphql-paging.ts.
 */
import { fork } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import type { ShopifySimulatorOptions, ShopStats } from '../src/testing/index.js';

export interface RemoteSimulator {
  url: string;
  port: number;
  certificate?: string;
  shops: Array<{ domain: string; accessToken: string }>;
  stats(which?: number): Promise<ShopStats>;
  resetStats(): Promise<void>;
  stop(): Promise<void>;
}

/** Starts the simulator in a child process. */
export async function startSimulator(options: ShopifySimulatorOptions): Promise<RemoteSimulator> {
  const script = fileURLToPath(new URL('./client-simulator-process.ts', import.meta.url));
  const child = fork(script, [JSON.stringify(options)], { execArgv: ['--import', 'tsx'], stdio: ['ignore', 'inherit', 'inherit', 'ipc'] });
  let nextId = 0;
  const pending = new Map<number, (m: Record<string, unknown>) => void>();
  const info = await new Promise<Record<string, unknown>>((resolve, reject) => {
    child.once('error', reject);
    child.on('message', (m: Record<string, unknown>) => {
      if (m.ready) resolve(m);
      else {
        pending.get(m.id as number)?.(m);
        pending.delete(m.id as number);
      }
    });
  });
  const call = (cmd: string, which?: number) => new Promise<Record<string, unknown>>((resolve) => {
    const id = ++nextId;
    pending.set(id, resolve);
    child.send({ id, cmd, which });
  });
  return {
    url: info.url as string,
    port: info.port as number,
    certificate: info.certificate as string | undefined,
    shops: info.shops as Array<{ domain: string; accessToken: string }>,
    stats: async (which) => (await call('stats', which)).stats as ShopStats,
    resetStats: async () => void (await call('reset')),
    stop: async () => void (await call('stop')),
  };
}
