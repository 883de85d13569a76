import {
  AUDIT_GENESIS_HASH,
  AUDIT_STATEMENT_MAX_CHARS,
  AuditRecord,
  ChainVerifier,
  canonicalJson,
  hashRecord,
  linkRecord,
  sanitizeStatement,
  verifyChain,
  type AuditRecordFields,
} from '@vansales/protocol';

const fields = (n: number): AuditRecordFields => ({
  at: new Date(Date.UTC(2025, 0, 1, 0, 0, n)).toISOString(),
  tenantId: 'acme',
  connectorId: 'c-1',
  actor: { workflowId: `wf-${n}`, runId: 'run-1', activityId: '1', attempt: 1 },
  operation: 'sql.query',
  statement: sanitizeStatement({ sql: 'SELECT * FROM film WHERE film_id = $1', params: [n], database: 'erp' }),
  outcome: 'ok',
  rows: n,
  bytes: 100 * n,
  durationMs: 3,
});

function chain(length: number) {
  const out = [];
  let prev = null;
  for (let i = 1; i <= length; i++) {
    prev = linkRecord(prev, fields(i));
    out.push(prev);
  }
  return out;
}

describe('audit statement sanitising', () => {
  it('keeps the text, the count and types of parameters, never their values', () => {
    const s = sanitizeStatement({
      sql: 'SELECT * FROM t WHERE a = ? AND b = ? AND c = ? AND d = ?',
      params: ['hunter2-secret', 987654321, null, true],
    });
    expect(s).toMatchObject({ paramCount: 4, paramTypes: ['string', 'number', 'null', 'boolean'], truncated: false });
    expect(JSON.stringify(s)).not.toContain('hunter2-secret');
    expect(JSON.stringify(s)).not.toContain('987654321');
  });

  it('cuts long texts, identifies them by hash, and replaces NUL characters', () => {
    const long = `SELECT '${'x'.repeat(AUDIT_STATEMENT_MAX_CHARS)}'`;
    const s = sanitizeStatement({ sql: long });
    expect(s.text).toHaveLength(AUDIT_STATEMENT_MAX_CHARS);
    expect(s.truncated).toBe(true);
    expect(s.textSha256).not.toBe(sanitizeStatement({ sql: `${long} ` }).textSha256);
    expect(sanitizeStatement({ sql: 'SELECT 1\u0000' }).text).toBe('SELECT 1\uFFFD');
  });
});

describe('canonical JSON', () => {
  it('orders keys at every level and drops undefined members', () => {
    expect(canonicalJson({ b: 1, a: { d: [2, { z: 1, y: 2 }], c: undefined } })).toBe(
      '{"a":{"d":[2,{"y":2,"z":1}]},"b":1}',
    );
    expect(canonicalJson({ b: 1, a: 2 })).toBe(canonicalJson({ a: 2, b: 1 }));
  });
});

describe('audit hash chain', () => {
  it('links records: seq from 1, the first to the genesis hash, each to the one before', () => {
    const records = chain(3);
    expect(records.map((r) => r.seq)).toEqual([1, 2, 3]);
    expect(records[0]!.prevHash).toBe(AUDIT_GENESIS_HASH);
    expect(records[1]!.prevHash).toBe(records[0]!.hash);
    expect(records[2]!.prevHash).toBe(records[1]!.hash);
    expect(hashRecord(records[2]!)).toBe(records[2]!.hash);
    expect(new Set(records.map((r) => r.hash)).size).toBe(3);
  });

  it('hashes the same record the same way whatever its key order', () => {
    const [r] = chain(1);
    const reordered = JSON.parse(JSON.stringify(Object.fromEntries(Object.entries(r!).reverse())));
    expect(hashRecord(reordered)).toBe(r!.hash);
  });

  it('refuses invalid fields when linking, naming the field', () => {
    expect(() => linkRecord(null, { ...fields(1), outcome: 'maybe' as 'ok' })).toThrow(/outcome/);
    expect(() => linkRecord(null, { ...fields(1), extra: 1 } as AuditRecordFields)).toThrow(/extra/);
  });

  it('verifies an intact chain and reports its head', () => {
    const records = chain(5);
    expect(verifyChain(records)).toEqual({ ok: true, count: 5, head: { seq: 5, hash: records[4]!.hash } });
    expect(verifyChain(records.map((r) => JSON.stringify(r)))).toMatchObject({ ok: true, count: 5 });
    expect(verifyChain([])).toEqual({ ok: true, count: 0, head: null });
  });

  it('names an edited record', () => {
    const records = chain(5);
    records[2] = { ...records[2]!, rows: 999 };
    expect(verifyChain(records)).toMatchObject({ ok: false, brokenAt: 3, index: 2, reason: 'hash-mismatch', count: 2 });
  });

  it('names the record after one that was replaced with a rehashed copy', () => {
    const records = chain(5);
    const forged = { ...records[2]!, rows: 999 };
    records[2] = { ...forged, hash: hashRecord(forged) };
    expect(verifyChain(records)).toMatchObject({ ok: false, brokenAt: 4, reason: 'prev-hash-mismatch' });
  });

  it('names a gap where a record was removed, and a repeated record', () => {
    const records = chain(5);
    expect(verifyChain([...records.slice(0, 2), ...records.slice(3)])).toMatchObject({
      ok: false,
      brokenAt: 4,
      index: 2,
      reason: 'seq-gap',
    });
    expect(verifyChain([records[0], records[1], records[1], records[2]])).toMatchObject({
      ok: false,
      brokenAt: 2,
      index: 2,
      reason: 'seq-gap',
    });
  });

  it('names an unparsable line and a line that is not a record', () => {
    const lines = chain(3).map((r) => JSON.stringify(r));
    expect(verifyChain([lines[0], '{"seq": 2, "trunc', lines[2]])).toMatchObject({
      ok: false,
      brokenAt: 2,
      index: 1,
      reason: 'unparsable',
    });
    const extra = JSON.stringify({ ...JSON.parse(lines[1]!), note: 'added' });
    expect(verifyChain([lines[0], extra, lines[2]])).toMatchObject({
      ok: false,
      brokenAt: 2,
      reason: 'invalid-record',
    });
  });

  it('refuses a first record that does not start from genesis, unless anchored', () => {
    const records = chain(4);
    expect(verifyChain(records.slice(2))).toMatchObject({ ok: false, brokenAt: 3, reason: 'seq-gap' });
    expect(verifyChain(records.slice(2), { seq: 2, hash: records[1]!.hash })).toMatchObject({ ok: true, count: 2 });
    expect(verifyChain(records.slice(2), { seq: 2, hash: records[0]!.hash })).toMatchObject({
      ok: false,
      reason: 'prev-hash-mismatch',
    });
  });

  it('stays broken after the first break when streamed', () => {
    const records = chain(3);
    const v = new ChainVerifier();
    expect(v.push(records[0])).toBeNull();
    expect(v.push(records[2])).toMatchObject({ brokenAt: 3 });
    expect(v.push(records[1])).toMatchObject({ brokenAt: 3 });
    expect(v.result()).toMatchObject({ ok: false, brokenAt: 3, count: 1 });
  });

  it('parses its own records with the schema', () => {
    expect(AuditRecord.safeParse(chain(1)[0]).success).toBe(true);
  });
});
