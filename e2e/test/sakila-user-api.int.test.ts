import { createConnection, type RowDataPacket } from 'mysql2/promise';
import { testServices } from '@vansales/test-kit';
import { sakilaReader } from './support/harness';
import { sakilaUserApiDocument, startSakilaUserApi, type SakilaUserApi } from './support/sakila-user-api';

// The Mode 2 stand-in (a customer's own API over Sakila) must itself be right before the SDK factory's
// end-to-end test trusts it: its answers are checked against the database, page by page.
const services = testServices();
const apiKey = 'k-'.padEnd(40, 'x');
let api: SakilaUserApi;

async function get(path: string, key: string | null = apiKey) {
  const res = await fetch(`${api.url}${path}`, { headers: key ? { 'x-api-key': key } : {} });
  return { status: res.status, body: (await res.json()) as unknown };
}

async function sql<T extends RowDataPacket>(text: string): Promise<T[]> {
  const conn = await createConnection({ ...services.mariadb, database: 'sakila' });
  try {
    return (await conn.query<T[]>(text))[0];
  } finally {
    await conn.end();
  }
}

beforeAll(async () => {
  api = await startSakilaUserApi({ database: { ...services.mariadb, ...(await sakilaReader()) }, apiKey });
});
afterAll(async () => api?.close());

describe('the Sakila user API (Mode 2 stand-in)', () => {
  it('pages through exactly the active customers', async () => {
    const ids: number[] = [];
    let cursor: string | null = null;
    do {
      const { status, body } = await get(`/api/customers/active?limit=137${cursor ? `&cursor=${cursor}` : ''}`);
      expect(status).toBe(200);
      const page = body as { data: { customer_id: number }[]; next_cursor: string | null };
      ids.push(...page.data.map((c) => c.customer_id));
      cursor = page.next_cursor;
    } while (cursor);
    const expected = await sql<RowDataPacket>('SELECT customer_id FROM customer WHERE active = 1 ORDER BY customer_id');
    expect(ids).toEqual(expected.map((r) => r.customer_id));
  });

  it('sums payments per store without losing digits', async () => {
    const { body } = await get('/api/sales/summary');
    const expected = await sql<RowDataPacket>(
      `SELECT s.store_id, COUNT(*) AS n, CAST(SUM(p.amount) AS CHAR) AS total
       FROM payment p JOIN staff s ON s.staff_id = p.staff_id GROUP BY s.store_id ORDER BY s.store_id`,
    );
    expect(body).toEqual(expected.map((r) => ({ store_id: r.store_id, payments: Number(r.n), total: r.total })));
  });

  it('refuses a missing or wrong key, and says why', async () => {
    expect(await get('/api/customers/active', null)).toEqual({
      status: 401,
      body: { error: 'send the API key in X-Api-Key' },
    });
    expect((await get('/api/customers/active', 'wrong')).status).toBe(401);
    expect(api.log.filter((e) => !e.authorized).map((e) => e.status)).toEqual([401, 401]);
  });

  it('rejects bad parameters with a message, not a database error', async () => {
    expect(await get('/api/customers/active?limit=0')).toEqual({
      status: 400,
      body: { error: 'limit must be between 1 and 500' },
    });
    expect((await get("/api/customers/active?cursor=1'%20OR%201=1")).status).toBe(400);
    expect((await get('/api/sales/summary?from=yesterday')).status).toBe(400);
  });

  it('in version 2 drops the summary and requires store_id, as its document says', async () => {
    api.setVersion(2);
    try {
      expect((await get('/api/sales/summary')).status).toBe(404);
      expect(await get('/api/customers/active')).toEqual({ status: 400, body: { error: 'store_id is required' } });
      const { body } = await get('/api/customers/active?store_id=2&limit=500');
      const rows = (body as { data: { store_id: number }[] }).data;
      expect(rows.length).toBeGreaterThan(0);
      expect(new Set(rows.map((r) => r.store_id))).toEqual(new Set([2]));
      const doc = (await get('/openapi.json', null)).body as typeof v2;
      const v2 = sakilaUserApiDocument(2);
      expect(doc).toEqual(v2);
      expect(Object.keys(doc.paths as object)).toEqual(['/api/customers/active']);
    } finally {
      api.setVersion(1);
    }
  });
});
