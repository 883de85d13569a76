import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { sql } from 'kysely';
import {
  AuditCheckpointScope,
  generateAgentKeyPair,
  linkRecord,
  signCheckpoint,
  type AuditChainHead,
  type AuditRecord,
} from '@vansales/protocol';
import { createAuditRepository, openMetadataDb, type AuditEventInput, type MetadataDb } from '@vansales/metadata';
import { tamper as tamperAs } from './support/tamper';

const event = (connectorId: string, n: number): AuditEventInput => ({
  tenantId: 'acme',
  connectorId,
  actor: { workflowId: `wf-${n}`, runId: 'run', activityId: String(n), attempt: 1 },
  operation: 'sql.query',
  outcome: 'ok',
  rows: n,
  durationMs: n,
});

describe("the gateway's audit chains are keyed: signed checkpoints (PGlite)", () => {
  let db: MetadataDb;
  const gatewayKey = { privateKeyPem: generateAgentKeyPair().privateKeyPem };

  beforeAll(async () => {
    db = await openMetadataDb({ kind: 'pglite', dir: mkdtempSync(join(tmpdir(), 'vsc-audit-keyed-')) });
  });
  afterAll(async () => {
    await db?.destroy();
  });

  const tamper = (statement: ReturnType<typeof sql>) => tamperAs(db, statement);

  async function keyedChain(connectorId: string, n: number): Promise<AuditRecord[]> {
    const audit = createAuditRepository(db, { signingKey: gatewayKey });
    const out = [];
    for (let i = 1; i <= n; i++) out.push(await audit.append(event(connectorId, i)));
    return out;
  }

  it('signs every head it appends, and verifies the chain against its checkpoints', async () => {
    await keyedChain('conn-k1', 4);
    expect(await createAuditRepository(db, { signingKey: gatewayKey }).verify('acme', 'conn-k1')).toEqual({
      ok: true,
      count: 4,
      head: expect.objectContaining({ seq: 4 }),
      keyed: { signedThrough: 4 },
    });
  });

  it('catches a chain rewritten from a record on and re-hashed to the end, which the hash chain alone accepts', async () => {
    const records = await keyedChain('conn-k2', 5);
    // Record 2 is changed and every record after it relinked and rehashed, as someone with write
    // access to the database (and the code) would do.
    let prev: AuditChainHead = { seq: records[0]!.seq, hash: records[0]!.hash };
    for (const original of records.slice(1)) {
      const { seq: _s, prevHash: _p, hash: _h, ...fields } = original;
      const forged = linkRecord(prev, original.seq === 2 ? { ...fields, outcome: 'refused' } : fields);
      await tamper(
        sql`UPDATE audit_events SET record = ${JSON.stringify(forged)}::jsonb, prev_hash = ${forged.prevHash}, hash = ${forged.hash}
            WHERE connector_id = 'conn-k2' AND seq = ${forged.seq}`,
      );
      prev = { seq: forged.seq, hash: forged.hash };
    }
    // The finding: as a plain hash chain, the rewrite verifies.
    expect(await createAuditRepository(db).verify('acme', 'conn-k2')).toMatchObject({ ok: true, count: 5 });
    expect(await createAuditRepository(db, { signingKey: gatewayKey }).verify('acme', 'conn-k2')).toMatchObject({
      ok: false,
      brokenAt: 2,
      reason: 'checkpoint-mismatch',
    });
  });

  it('catches records appended without the key, and checkpoints the key did not sign', async () => {
    await keyedChain('conn-k3', 2);
    await createAuditRepository(db).append(event('conn-k3', 3));
    expect(await createAuditRepository(db, { signingKey: gatewayKey }).verify('acme', 'conn-k3')).toMatchObject({
      ok: false,
      brokenAt: 3,
      reason: 'unsigned-head',
    });
    const head = (await createAuditRepository(db).head('acme', 'conn-k3'))!;
    const forged = signCheckpoint(
      generateAgentKeyPair().privateKeyPem,
      { scope: AuditCheckpointScope.gateway, tenantId: 'acme', connectorId: 'conn-k3' },
      head,
    );
    await db
      .insertInto('audit_checkpoints')
      .values({ tenant_id: 'acme', connector_id: 'conn-k3', ...forged, key_id: 'forged' })
      .execute();
    expect(await createAuditRepository(db, { signingKey: gatewayKey }).verify('acme', 'conn-k3')).toMatchObject({
      ok: false,
      brokenAt: 3,
      reason: 'checkpoint-signature',
    });
  });

  it('catches records cut from the end, and refuses to change or remove checkpoints', async () => {
    await keyedChain('conn-k4', 3);
    await tamper(sql`DELETE FROM audit_events WHERE connector_id = 'conn-k4' AND seq = 3`);
    expect(await createAuditRepository(db, { signingKey: gatewayKey }).verify('acme', 'conn-k4')).toMatchObject({
      ok: false,
      brokenAt: 3,
      reason: 'checkpoint-mismatch',
    });
    await expect(db.deleteFrom('audit_checkpoints').where('connector_id', '=', 'conn-k4').execute()).rejects.toThrow(
      /append-only/,
    );
  });
});
