/** Runs the example: `npm start` (or `npx tsx examples/fastify/src/server.ts` from the repo root). */
import { createApp } from './app.js';

const { app, service } = await createApp();
const url = await app.listen({ port: Number(process.env.PORT ?? 3000), host: process.env.HOST ?? '127.0.0.1' });
service.logger.info('listening', { url });

let stopping = false;
async function stop(signal: string): Promise<void> {
  if (stopping) return;
  stopping = true;
  service.logger.info('shutting down', { signal });
  // app.close() stops accepting requests, then its onClose hook runs service.shutdown():
  // running imports checkpoint and the webhook inbox drains.
  await app.close();
  process.exit(0);
}
// `on`, not `once`: a second signal (relayed by npm/tsx, or repeated by an orchestrator) must not
// kill the process halfway through the shutdown.
process.on('SIGTERM', () => void stop('SIGTERM'));
process.on('SIGINT', () => void stop('SIGINT'));
