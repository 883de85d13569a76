import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { sql } from 'kysely';
import { AUDIT_GENESIS_HASH, hashRecord, sanitizeStatement, verifyChain, type AuditRecord } from '@vansales/protocol';
import {
  createAuditRepository,
  migrateToLatest,
  openMetadataDb,
  type AuditEventInput,
  type MetadataDb,
} from '@vansales/metadata';
import { asSuperuser, tamper as tamperAs } from './support/tamper';

const SECRET_PARAM = 'p-value-90210-secret';

const event = (connectorId: string, n: number, tenantId = 'acme'): AuditEventInput => ({
  tenantId,
  connectorId,
  actor: { workflowId: `wf-${n}`, runId: 'run', activityId: String(n), attempt: 1 },
  operation: 'sql.query',
  statement: sanitizeStatement({
    sql: 'SELECT * FROM payment WHERE customer_id = $1',
    params: [SECRET_PARAM],
    database: 'erp',
  }),
  outcome: 'ok',
  rows: n,
  bytes: n * 100,
  durationMs: n,
});

describe('audit events on embedded PGlite', () => {
  let db: MetadataDb;

  beforeAll(async () => {
    db = await openMetadataDb({ kind: 'pglite', dir: mkdtempSync(join(tmpdir(), 'vsc-audit-pglite-')) });
  });
  afterAll(async () => {
    await db?.destroy();
  });

  it('creates the audit_events table by migration', async () => {
    const tables = await db.introspection.getTables();
    const audit = tables.find((t) => t.name === 'audit_events');
    expect(audit?.columns.map((c) => c.name).sort()).toEqual([
      'connector_id',
      'created_at',
      'hash',
      'id',
      'prev_hash',
      'record',
      'seq',
      'tenant_id',
    ]);
    expect(await migrateToLatest(db)).toEqual([]);
  });

  it('appends one chain per connector, starting from genesis, and verifies it', async () => {
    const audit = createAuditRepository(db);
    const a1 = await audit.append(event('conn-a', 1));
    const b1 = await audit.append(event('conn-b', 1));
    const a2 = await audit.append(event('conn-a', 2));
    expect(a1).toMatchObject({ seq: 1, prevHash: AUDIT_GENESIS_HASH });
    expect(b1).toMatchObject({ seq: 1, prevHash: AUDIT_GENESIS_HASH });
    expect(a2).toMatchObject({ seq: 2, prevHash: a1.hash });
    expect(await audit.head('acme', 'conn-a')).toEqual({ seq: 2, hash: a2.hash });
    expect(await audit.head('acme', 'conn-none')).toBeNull();

    const stored = await audit.list('acme', 'conn-a');
    expect(stored.map((s) => s.record)).toEqual([a1, a2]);
    expect(stored.map((s) => s.seq)).toEqual([1, 2]);
    expect(verifyChain(stored.map((s) => s.record))).toMatchObject({ ok: true, count: 2 });
    expect(await audit.verify('acme', 'conn-a')).toEqual({ ok: true, count: 2, head: { seq: 2, hash: a2.hash } });
    expect(JSON.stringify(stored)).not.toContain(SECRET_PARAM);
  });

  it('scopes reads to the tenant', async () => {
    const audit = createAuditRepository(db);
    await audit.append(event('conn-t', 1));
    expect(await audit.list('other-tenant', 'conn-t')).toEqual([]);
    expect(await audit.head('other-tenant', 'conn-t')).toBeNull();
  });

  it('links concurrent appends into one chain', async () => {
    const audit = createAuditRepository(db);
    const records = await Promise.all(Array.from({ length: 20 }, (_, i) => audit.append(event('conn-c', i + 1))));
    expect(records.map((r) => r.seq).sort((x, y) => x - y)).toEqual(Array.from({ length: 20 }, (_, i) => i + 1));
    expect(await audit.verify('acme', 'conn-c', { pageSize: 7 })).toMatchObject({ ok: true, count: 20 });
  });

  it('refuses an invalid event, naming the field, and stores nothing', async () => {
    const audit = createAuditRepository(db);
    await expect(audit.append({ ...event('conn-i', 1), outcome: 'perhaps' as 'ok' })).rejects.toThrow(/outcome/);
    expect(await audit.list('acme', 'conn-i')).toEqual([]);
  });

  it('refuses UPDATE, DELETE and TRUNCATE of audit events', async () => {
    const audit = createAuditRepository(db);
    await audit.append(event('conn-u', 1));
    await expect(
      db
        .updateTable('audit_events')
        .set({ tenant_id: 'evil' } as never)
        .where('connector_id', '=', 'conn-u')
        .execute(),
    ).rejects.toThrow(/audit_events is append-only: UPDATE refused/);
    await expect(db.deleteFrom('audit_events').where('connector_id', '=', 'conn-u').execute()).rejects.toThrow(
      /audit_events is append-only: DELETE refused/,
    );
    // The store's role may not TRUNCATE at all; its superuser login may, and the guard refuses it then.
    await expect(sql`TRUNCATE audit_events`.execute(db)).rejects.toThrow(/permission denied for table audit_events/);
    await expect(asSuperuser(db, sql`TRUNCATE audit_events`)).rejects.toThrow(
      /audit_events is append-only: TRUNCATE refused/,
    );
    expect(await audit.list('acme', 'conn-u')).toHaveLength(1);
  });

  describe('tampering by someone who can switch the guard off', () => {
    const tamper = (statement: ReturnType<typeof sql>) => tamperAs(db, statement);

    async function chainOf(connectorId: string, n: number): Promise<AuditRecord[]> {
      const audit = createAuditRepository(db);
      const out = [];
      for (let i = 1; i <= n; i++) out.push(await audit.append(event(connectorId, i)));
      return out;
    }

    it('names an edited record', async () => {
      await chainOf('conn-x1', 5);
      await tamper(
        sql`UPDATE audit_events SET record = jsonb_set(record, '{rows}', '0') WHERE connector_id = 'conn-x1' AND seq = 3`,
      );
      const result = await createAuditRepository(db).verify('acme', 'conn-x1');
      expect(result).toMatchObject({ ok: false, brokenAt: 3, index: 2, reason: 'hash-mismatch', count: 2 });
    });

    it('names the link after a record replaced with a correctly rehashed forgery', async () => {
      const records = await chainOf('conn-x2', 5);
      const forged = { ...records[1]!, outcome: 'refused' as const };
      forged.hash = hashRecord(forged);
      await tamper(
        sql`UPDATE audit_events SET record = ${JSON.stringify(forged)}::jsonb, hash = ${forged.hash} WHERE connector_id = 'conn-x2' AND seq = 2`,
      );
      expect(await createAuditRepository(db).verify('acme', 'conn-x2')).toMatchObject({
        ok: false,
        brokenAt: 3,
        reason: 'prev-hash-mismatch',
      });
    });

    it('names the gap left by a deleted record', async () => {
      await chainOf('conn-x3', 5);
      await tamper(sql`DELETE FROM audit_events WHERE connector_id = 'conn-x3' AND seq = 4`);
      expect(await createAuditRepository(db).verify('acme', 'conn-x3')).toMatchObject({
        ok: false,
        brokenAt: 5,
        reason: 'seq-gap',
      });
    });

    it('names a row whose hash column was changed apart from its record', async () => {
      await chainOf('conn-x4', 3);
      await tamper(sql`UPDATE audit_events SET hash = ${'f'.repeat(64)} WHERE connector_id = 'conn-x4' AND seq = 2`);
      expect(await createAuditRepository(db).verify('acme', 'conn-x4')).toMatchObject({
        ok: false,
        brokenAt: 2,
        reason: 'invalid-record',
      });
    });
  });
});
