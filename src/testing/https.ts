/**
 * HTTPS mode: peers such as `shopify-api-node` only call `https://{shop}.myshopify.com`. The
 * simulator then serves TLS with a self-signed certificate for the shop domains, and
 * {@link createSimulatorAgent} gives an `https.Agent` that sends every connection to the
 * simulator while keeping the `Host` header (the simulator routes by it) and verifying the
 * certificate against the simulator's own, so no `NODE_TLS_REJECT_UNAUTHORIZED=0` is needed.
 */
import https from 'node:https';
import tls from 'node:tls';
import type { Duplex } from 'node:stream';
import { ConfigError } from '../errors.js';

/** Generates a short-lived self-signed certificate valid for the given domains, localhost and 127.0.0.1. */
export async function createSelfSignedCertificate(domains: string[]): Promise<{ key: string; cert: string }> {
  // Loaded on demand: only HTTPS mode needs it, so plain HTTP use has no extra dependency.
  let generate: typeof import('selfsigned').generate;
  try {
    ({ generate } = await import('selfsigned'));
  } catch (cause) {
    throw new ConfigError('the simulator HTTPS mode needs the "selfsigned" package: npm install --save-dev selfsigned', { cause });
  }
  const pems = await generate([{ name: 'commonName', value: domains[0] ?? 'localhost' }], {
    keyType: 'ec',
    algorithm: 'sha256',
    extensions: [
      { name: 'basicConstraints', cA: false },
      { name: 'keyUsage', digitalSignature: true, keyEncipherment: true },
      { name: 'extKeyUsage', serverAuth: true },
      {
        name: 'subjectAltName',
        altNames: [
          ...domains.map((value) => ({ type: 2, value })),
          { type: 2, value: 'localhost' },
          { type: 7, ip: '127.0.0.1' },
        ],
      },
    ],
  } as Parameters<typeof import('selfsigned').generate>[1]);
  return { key: pems.private, cert: pems.cert };
}

/**
 * An `https.Agent` that connects every request to the simulator (whatever the url's host), with
 * the simulator's certificate as the only trusted CA.
 *
 * @example
 * ```ts
 * import Shopify from 'shopify-api-node';
 * const sim = await createShopifySimulator({ https: true });
 * const agent = createSimulatorAgent(sim);
 * const shopify = new Shopify({ shopName: sim.shops[0].domain, accessToken: sim.shops[0].accessToken, agent: { https: agent } });
 * await shopify.order.count({ status: 'any' });
 * ```
 */
export function createSimulatorAgent(simulator: { port: number; certificate?: string }, options: https.AgentOptions = {}): https.Agent {
  if (!simulator.certificate) throw new Error('[shopify-ingest] createSimulatorAgent needs a simulator started with { https: true }');
  const agent = new https.Agent({ keepAlive: true, ...options, ca: simulator.certificate });
  const connect = (opts: tls.ConnectionOptions & { host?: string; servername?: string }, callback?: (err: Error | null, socket: Duplex) => void): Duplex => {
    const servername = opts.servername || opts.host || 'localhost';
    const socket = tls.connect({ ...opts, host: '127.0.0.1', port: simulator.port, servername, ca: simulator.certificate });
    if (callback) socket.once('secureConnect', () => callback(null, socket));
    return socket;
  };
  (agent as unknown as { createConnection: typeof connect }).createConnection = connect;
  return agent;
}
