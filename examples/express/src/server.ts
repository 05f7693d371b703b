/** Runs the example: `npm start` (or `npx tsx examples/express/src/server.ts` from the repo root). */
import type { AddressInfo } from 'node:net';
import { createApp } from './app.js';

const port = Number(process.env.PORT ?? 3000);
const { app, service, close } = await createApp();

const server = app.listen(port, process.env.HOST ?? '127.0.0.1', () => {
  const { address, port: bound } = server.address() as AddressInfo;
  service.logger.info('listening', { url: `http://${address}:${bound}` });
});

let stopping = false;
async function stop(signal: string): Promise<void> {
  if (stopping) return;
  stopping = true;
  service.logger.info('shutting down', { signal });
  // Stop accepting requests, then let running imports checkpoint and the webhook inbox drain.
  server.close();
  await close();
  process.exit(0);
}
// `on`, not `once`: a second signal (relayed by npm/tsx, or repeated by an orchestrator) must not
// kill the process halfway through the shutdown.
process.on('SIGTERM', () => void stop('SIGTERM'));
process.on('SIGINT', () => void stop('SIGINT'));
