import http from 'node:http';
import type { AddressInfo } from 'node:net';

export const API = '/admin/api/2025-01';

/** GET with a token; returns status, headers and the raw text. */
export async function get(url: string, token: string, headers: Record<string, string> = {}) {
  const res = await fetch(url, { headers: { 'X-Shopify-Access-Token': token, ...headers } });
  return { status: res.status, headers: res.headers, text: await res.text() };
}

export function nextLink(link: string | null): string | undefined {
  return link ? /<([^>]+)>; rel="next"/.exec(link)?.[1] : undefined;
}

export function previousLink(link: string | null): string | undefined {
  return link ? /<([^>]+)>; rel="previous"/.exec(link)?.[1] : undefined;
}

/** A manual clock for exact rate-limit maths. */
export function manualClock(start = Date.UTC(2026, 0, 1)) {
  let now = start;
  return { now: () => now, advance: (ms: number) => { now += ms; } };
}

/** A webhook receiver that records raw bodies and answers with `respond(n)` for the n-th request (0-based). */
export async function startReceiver(respond: (n: number) => { status: number; delayMs?: number } = () => ({ status: 200 })) {
  const received: Array<{ headers: http.IncomingHttpHeaders; body: string }> = [];
  let n = 0;
  const server = http.createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c) => chunks.push(c));
    req.on('end', () => {
      const answer = respond(n++);
      received.push({ headers: req.headers, body: Buffer.concat(chunks).toString('utf8') });
      setTimeout(() => { res.statusCode = answer.status; res.end('ok'); }, answer.delayMs ?? 0);
    });
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', () => r()));
  const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/webhooks`;
  return { url, received, close: () => new Promise<void>((r) => { server.closeAllConnections(); server.close(() => r()); }) };
}
