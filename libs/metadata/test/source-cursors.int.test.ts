import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createRepositories, createSourceCursorRepository, openMetadataDb, type MetadataDb } from '@vansales/metadata';

describe('source cursors (kept between runs of a definition)', () => {
  const dir = mkdtempSync(join(tmpdir(), 'vsc-cursors-'));
  let db: MetadataDb;

  beforeAll(async () => {
    db = await openMetadataDb({ kind: 'pglite', dir });
    const repos = createRepositories(db);
    await repos.upsertTenant({ id: 'ta', name: 'A' });
    await repos.upsertTenant({ id: 'tb', name: 'B' });
  });
  afterAll(async () => {
    await db?.destroy();
    rmSync(dir, { recursive: true, force: true });
  });

  it('returns a cursor only for the source it was reached on, per tenant and definition; a save replaces it', async () => {
    const cursors = createSourceCursorRepository(db);
    const orders = { stepId: 'extract', sourceKey: '{"table":"orders"}' };
    expect(await cursors.read('ta', 'd1', [orders])).toEqual({});
    await cursors.save('ta', 'd1', 'run-1', [{ ...orders, value: '2026-01-01T00:00:05.000Z' }]);
    expect(await cursors.read('ta', 'd1', [orders])).toEqual({ extract: '2026-01-01T00:00:05.000Z' });
    // Another table under the same step id, another definition, another tenant: none.
    expect(await cursors.read('ta', 'd1', [{ stepId: 'extract', sourceKey: '{"table":"archive"}' }])).toEqual({});
    expect(await cursors.read('ta', 'd2', [orders])).toEqual({});
    expect(await cursors.read('tb', 'd1', [orders])).toEqual({});
    await cursors.save('ta', 'd1', 'run-2', [{ ...orders, value: 42 }]);
    expect(await cursors.read('ta', 'd1', [orders])).toEqual({ extract: 42 });
    const rows = await db.selectFrom('source_cursors').selectAll().execute();
    expect(rows).toHaveLength(1);
    expect(rows[0]).toMatchObject({ run_id: 'run-2', value: 42 });
  });
});
