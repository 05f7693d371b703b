import { createStore } from '../../src/store/index.js';
import { createTestDatabase } from '../helpers/db.js';
import { customer } from './rows.js';

const db = await createTestDatabase();
const s = createStore(db.prisma);
await s.upsertTenant({ id: 't1', shopDomain: 'a.myshopify.com', accessTokenEnc: 'x' });
const payload = (id: bigint) => JSON.stringify({ id: Number(id), email: 'enc:xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx', first_name: 'enc:yyyyyyyyyyyyyyyyyyyyyy', tags: 'a, b, c', addresses: [{ id: 1, city: 'Ottawa', country: 'Canada', zip: 'K2P 1L4' }], note: null, state: 'enabled', orders_count: 3, total_spent: '199.00', created_at: '2024-01-01T00:00:00-05:00' });
const N = 20000, B = 1000;
const rows = Array.from({ length: N }, (_, i) => customer('t1', BigInt(i + 1), { payload: payload(BigInt(i + 1)) }));
let t0 = performance.now();
for (let i = 0; i < N; i += B) await s.upsertCustomers('t1', rows.slice(i, i + B));
let ms = performance.now() - t0;
console.log('insert rows/s', Math.round(N / ms * 1000));
t0 = performance.now();
for (let i = 0; i < N; i += B) await s.upsertCustomers('t1', rows.slice(i, i + B));
ms = performance.now() - t0;
console.log('update rows/s', Math.round(N / ms * 1000));
// breakdown: time of the query alone via pg direct
const { columnArrays, customerColumns } = await import('../../src/store/columns.js');
t0 = performance.now();
for (let i = 0; i < N; i += B) columnArrays(customerColumns, rows.slice(i, i + B));
console.log('encode ms', performance.now() - t0);
await db.drop();
