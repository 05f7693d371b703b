/**
 * Runs a simulator in its own process for bench/client.ts, so the server's CPU does not compete with the
 * clients' event loop (Shopify is remote, after all). Options come as JSON in argv[2]; the parent talks
 * over IPC: { cmd: 'stats', which? } -> stats, { cmd: 'resultFiles' } -> the bulk result files it wrote
 * (`bulk.resultDir`), { cmd: 'reset' }, { cmd: 'stop' }.
 */
import { createShopifySimulator, type ShopifySimulatorOptions } from '../src/testing/index.js';

const options = JSON.parse(process.argv[2] ?? '{}') as ShopifySimulatorOptions;
const sim = await createShopifySimulator(options);
process.send!({ ready: true, url: sim.url, port: sim.port, certificate: sim.certificate, shops: sim.shops.map((s) => ({ domain: s.domain, accessToken: s.accessToken })) });
process.on('message', async (message: { id: number; cmd: string; which?: number }) => {
  if (message.cmd === 'stats') process.send!({ id: message.id, stats: sim.stats(message.which) });
  else if (message.cmd === 'resultFiles') process.send!({ id: message.id, resultFiles: sim.graphql.resultFiles() });
  else if (message.cmd === 'reset') {
    sim.resetStats();
    process.send!({ id: message.id });
  } else if (message.cmd === 'stop') {
    await sim.stop();
    process.send!({ id: message.id });
    process.exit(0);
  }
});
