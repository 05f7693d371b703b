/**
 * Customer PII is stored encrypted in every resource that holds any (issue: "customer PII
 * encrypted"): after a full sync of every resource of a shop, a pg_dump of the database holds no
 * plaintext email address, phone number, name or street address of the shop's customers or walk-in
 * buyers, whichever table or payload the record went to.
 */
import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { testDatabaseConfig } from '../helpers/pg-config.js';
import { connectTenant, createHarness, importer, type Harness } from './harness.js';

let h: Harness;
beforeAll(async () => {
  h = await createHarness({ timeScale: 50, bulk: { startDelayMs: 20, rowsPerSecond: 100_000 }, shops: [{ customers: 40, products: 12, orders: 80, draftOrders: 20, abandonedCheckouts: 20 }] });
});
afterAll(async () => { await h?.close(); });

describe('no plaintext PII in the database, every resource', { timeout: 240_000 }, () => {
  it('a pg_dump after importAll holds no email, phone, name or street of any buyer', async () => {
    const { client, shop } = await connectTenant(h, 'pii', 0);
    const all = await importer(h, client, 'pii', { bulk: { minPollMs: 10, maxPollMs: 50 } }).importAll();
    for (const [name, r] of Object.entries(all)) expect(r.status, name).toBe('succeeded');
    // The check below can only fail if the PII was synced: every resource holding emails holds some.
    for (const table of ['shopify_customers', 'shopify_orders', 'shopify_draft_orders', 'shopify_abandoned_checkouts']) {
      const [{ n }] = await h.db.query<{ n: number }>(`SELECT count(*)::int AS n FROM ${table} WHERE tenant_id = 'pii' AND email_enc IS NOT NULL`);
      expect(n, `${table} rows with an (encrypted) email`).toBeGreaterThan(0);
    }
    const c = testDatabaseConfig(h.db.name);
    const { stdout } = await promisify(execFile)('pg_dump', ['-h', c.host, '-p', String(c.port), '-U', c.user, '--data-only', h.db.name], {
      maxBuffer: 1 << 30, env: { ...process.env, PGPASSWORD: c.password ?? '' },
    });
    // Every email-looking token, whatever table it is in: none may be a buyer's.
    const emails = [...new Set(stdout.match(/[A-Za-z0-9._%+-]+@[A-Za-z0-9-]+(?:\.[A-Za-z0-9-]+)+/g) ?? [])];
    const shopOwn = new Set([shop.domain]);
    const leaked = emails.filter((e) => !shopOwn.has(e.split('@')[1]) && !/^(shop|owner|noreply|support|info)@/.test(e));
    const where = (token: string) => stdout.split('\n').filter((l) => l.includes(token)).slice(0, 2).map((l) => l.slice(0, 200));
    expect(leaked.map((e) => ({ e, where: where(e) }))).toEqual([]);
    // Customers' phones and streets, as the simulator holds them.
    const secrets = new Set<string>();
    for (let i = 0; i < 40; i++) {
      const customer = shop.tables.customers.get(i) as Record<string, unknown> | undefined;
      if (!customer) continue;
      if (typeof customer.phone === 'string') secrets.add(customer.phone);
      // Names as a JSON value or a column value of their own.
      for (const key of ['first_name', 'last_name']) {
        if (typeof customer[key] === 'string') { secrets.add(`"${customer[key] as string}"`); secrets.add(`\t${customer[key] as string}\t`); }
      }
      for (const a of [customer.default_address, ...((customer.addresses as unknown[]) ?? [])] as Array<Record<string, unknown> | null>) {
        if (typeof a?.address1 === 'string' && a.address1.length > 5) secrets.add(a.address1);
        if (typeof a?.phone === 'string') secrets.add(a.phone);
      }
    }
    expect(secrets.size).toBeGreaterThan(30);
    expect([...secrets].filter((s) => stdout.includes(s)).map((s) => ({ s, where: where(s) }))).toEqual([]);
  });
});
