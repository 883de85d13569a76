import { appendFileSync, mkdtempSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import {
  AUDIT_GENESIS_HASH,
  generateAgentKeyPair,
  hashRecord,
  linkRecord,
  sanitizeStatement,
  signCheckpoint,
  verifyChain,
  type AuditChainHead,
  type AuditRecord,
} from '@vansales/protocol';
import { AuditLogError, openAuditLog, verifyAuditFile, type AuditEntry } from '../src/audit/audit-log';
import { runCli } from '../src/main';
import { cliIo } from './cli-io';

const SECRET_PARAM = 'param-value-5531-secret';

const entry = (n: number): AuditEntry => ({
  tenantId: 'acme',
  connectorId: 'c-1',
  actor: { workflowId: `wf-${n}`, runId: 'r', activityId: String(n), attempt: 1 },
  operation: 'sql.query',
  statement: sanitizeStatement({
    sql: 'SELECT * FROM customer WHERE email = ?',
    params: [SECRET_PARAM],
    database: 'erp',
  }),
  outcome: n % 3 === 0 ? 'failed' : 'ok',
  ...(n % 3 === 0 ? { errorType: 'SqlError' } : { rows: n, bytes: n * 10 }),
  durationMs: n,
});

const freshFile = () => join(mkdtempSync(join(tmpdir(), 'vsc-audit-')), 'audit.jsonl');
const lines = (path: string) =>
  readFileSync(path, 'utf8')
    .split('\n')
    .filter((l) => l !== '');

const cli = () => cliIo();

describe('agent audit log', () => {
  it('appends one chained record per line, file mode 0600, no parameter values', async () => {
    const path = freshFile();
    const log = await openAuditLog({ path, fsync: true, now: () => new Date('2025-03-01T10:00:00.000Z') });
    expect(log.head()).toBeNull();
    const first = await log.append(entry(1));
    const second = await log.append(entry(2));
    await log.close();
    expect(first).toMatchObject({ seq: 1, prevHash: AUDIT_GENESIS_HASH, at: '2025-03-01T10:00:00.000Z' });
    expect(second).toMatchObject({ seq: 2, prevHash: first.hash });
    expect(lines(path).map((l) => JSON.parse(l))).toEqual([first, second]);
    expect(statSync(path).mode & 0o777).toBe(0o600);
    expect(readFileSync(path, 'utf8')).not.toContain(SECRET_PARAM);
  });

  it('resumes the chain from the last line when reopened', async () => {
    const path = freshFile();
    const a = await openAuditLog({ path });
    await a.append(entry(1));
    const last = await a.append(entry(2));
    await a.close();
    const b = await openAuditLog({ path });
    expect(b.head()).toEqual({ seq: 2, hash: last.hash });
    const next = await b.append(entry(3));
    await b.close();
    expect(next).toMatchObject({ seq: 3, prevHash: last.hash });
    expect(verifyChain(lines(path))).toMatchObject({ ok: true, count: 3 });
  });

  it('serialises concurrent appends into one unbroken chain, in call order', async () => {
    const path = freshFile();
    const log = await openAuditLog({ path });
    const records = await Promise.all(Array.from({ length: 50 }, (_, i) => log.append(entry(i + 1))));
    await log.close();
    expect(records.map((r) => r.seq)).toEqual(Array.from({ length: 50 }, (_, i) => i + 1));
    expect(records.map((r) => r.actor.workflowId)).toEqual(Array.from({ length: 50 }, (_, i) => `wf-${i + 1}`));
    expect(verifyChain(lines(path))).toMatchObject({ ok: true, count: 50 });
  });

  it('refuses an invalid record without breaking the chain for the next one', async () => {
    const path = freshFile();
    const log = await openAuditLog({ path });
    await log.append(entry(1));
    await expect(log.append({ ...entry(2), durationMs: -1 })).rejects.toMatchObject({
      code: 'invalid-record',
      message: expect.stringMatching(/durationMs/),
    });
    expect((await log.append(entry(3))).seq).toBe(2);
    await log.close();
    await expect(log.append(entry(4))).rejects.toMatchObject({ code: 'closed' });
    expect(verifyChain(lines(path))).toMatchObject({ ok: true, count: 2 });
  });

  it('will not extend a log whose last line was cut off or altered', async () => {
    const path = freshFile();
    const log = await openAuditLog({ path });
    await log.append(entry(1));
    await log.close();
    const intact = readFileSync(path, 'utf8');

    appendFileSync(path, '{"seq":2,"at":"20');
    await expect(openAuditLog({ path })).rejects.toMatchObject({
      code: 'corrupt-tail',
      message: expect.stringMatching(/does not end with a newline/),
    });

    writeFileSync(path, intact.replace('"rows":1', '"rows":7'));
    await expect(openAuditLog({ path })).rejects.toBeInstanceOf(AuditLogError);
    await expect(openAuditLog({ path })).rejects.toMatchObject({ code: 'corrupt-tail' });
  });

  it('reads the last line of a log larger than one read chunk', async () => {
    const path = freshFile();
    const log = await openAuditLog({ path });
    const big = { ...entry(1), statement: sanitizeStatement({ sql: `SELECT '${'y'.repeat(8000)}'` }) };
    for (let i = 0; i < 20; i++) await log.append(big);
    await log.close();
    const again = await openAuditLog({ path });
    expect(again.head()?.seq).toBe(20);
    await again.close();
    // A last line longer than a read chunk is read whole (and refused: it is not a record).
    appendFileSync(path, `${'z'.repeat(200_000)}\n`);
    await expect(openAuditLog({ path })).rejects.toMatchObject({
      code: 'corrupt-tail',
      message: expect.stringMatching(/last line .* is not a valid audit record/),
    });
  });
});

describe('mini-connector audit verify', () => {
  async function writeLog(n: number): Promise<string> {
    const path = freshFile();
    const log = await openAuditLog({ path });
    for (let i = 1; i <= n; i++) await log.append(entry(i));
    await log.close();
    return path;
  }

  it('reports an intact chain with exit 0', async () => {
    const path = await writeLog(4);
    const h = cli();
    expect(await runCli(['audit', 'verify', path], h.io)).toBe(0);
    expect(h.out()).toMatch(/^4 records, chain intact; last record seq 4, hash [0-9a-f]{64}\n$/);
  });

  it('names the first broken link with exit 1: an edited record', async () => {
    const path = await writeLog(5);
    const content = lines(path);
    const third = JSON.parse(content[2]!);
    third.outcome = 'ok';
    third.rows = 1_000_000;
    delete third.errorType;
    content[2] = JSON.stringify(third);
    writeFileSync(path, `${content.join('\n')}\n`);
    const h = cli();
    expect(await runCli(['audit', 'verify', path], h.io)).toBe(1);
    expect(h.out()).toMatch(
      /^chain broken at record seq 3 \(line 3\): hash-mismatch: record seq 3 does not match its hash/,
    );
    expect(h.out()).toContain('2 records before it are intact');
  });

  it('names the first broken link: a rehashed forgery, a removed record, a garbage line', async () => {
    const path = await writeLog(5);
    const content = lines(path);

    const forged = { ...JSON.parse(content[1]!), rows: 0 };
    forged.hash = hashRecord(forged);
    writeFileSync(path, `${[content[0], JSON.stringify(forged), ...content.slice(2)].join('\n')}\n`);
    let h = cli();
    expect(await runCli(['audit', 'verify', path], h.io)).toBe(1);
    expect(h.out()).toMatch(/chain broken at record seq 3 \(line 3\): prev-hash-mismatch/);

    writeFileSync(path, `${[...content.slice(0, 3), ...content.slice(4)].join('\n')}\n`);
    h = cli();
    expect(await runCli(['audit', 'verify', path], h.io)).toBe(1);
    expect(h.out()).toMatch(/chain broken at record seq 5 \(line 4\): seq-gap: expected seq 4, found 5/);

    writeFileSync(path, `${[content[0], 'not json', ...content.slice(1)].join('\n')}\n`);
    h = cli();
    expect(await runCli(['audit', 'verify', path], h.io)).toBe(1);
    expect(h.out()).toMatch(/chain broken at record seq 2 \(line 2\): unparsable/);
  });

  it('says when the file cannot be read, and how to call it', async () => {
    let h = cli();
    expect(await runCli(['audit', 'verify', join(tmpdir(), 'no-such-audit-file.jsonl')], h.io)).toBe(2);
    expect(h.err()).toMatch(/cannot read audit log .*ENOENT/);
    h = cli();
    expect(await runCli(['audit', 'verify'], h.io)).toBe(2);
    expect(h.err()).toMatch(/usage: mini-connector audit verify <file>/);
  });

  it('verifies files through the same function the command uses', async () => {
    const path = await writeLog(3);
    expect(await verifyAuditFile(path)).toMatchObject({ ok: true, count: 3 });
  });
});

describe('a keyed agent audit log: the agent signs each head with its key pair', () => {
  const pair = generateAgentKeyPair();

  async function keyedLog(n: number): Promise<string> {
    const path = freshFile();
    const log = await openAuditLog({ path, signWith: pair.privateKeyPem });
    for (let i = 1; i <= n; i++) await log.append(entry(i));
    await log.close();
    return path;
  }

  it('verifies with the public key, and tells when the signed heads were not checked', async () => {
    const path = await keyedLog(3);
    expect(await verifyAuditFile(path, { publicKey: pair.publicKey })).toMatchObject({
      ok: true,
      count: 3,
      keyed: { signedThrough: 3 },
    });
    const plain = cli();
    expect(await runCli(['audit', 'verify', path], plain.io)).toBe(0);
    expect(plain.out()).toMatch(/chain intact.*signed heads not checked \(pass --public-key\)/);
    const keyed = cli();
    expect(await runCli(['audit', 'verify', path, '--public-key', pair.publicKey], keyed.io)).toBe(0);
    expect(keyed.out()).toMatch(/signed by the agent's key through seq 3/);
  });

  it('fails a chain rewritten and re-hashed from a record on, which the hash chain alone accepts', async () => {
    const path = await keyedLog(5);
    const records = lines(path).map((l) => JSON.parse(l) as AuditRecord);
    let prev: AuditChainHead | null = null;
    const rewritten = records.map((r) => {
      const { seq: _s, prevHash: _p, hash: _h, ...fields } = r;
      const next = linkRecord(prev, r.seq === 2 ? { ...fields, outcome: 'refused', errorType: 'Hidden' } : fields);
      prev = { seq: next.seq, hash: next.hash };
      return next;
    });
    writeFileSync(path, rewritten.map((r) => `${JSON.stringify(r)}\n`).join(''));
    // The finding: the hash chain verifies.
    expect(await verifyAuditFile(path)).toMatchObject({ ok: true, count: 5 });
    expect(await verifyAuditFile(path, { publicKey: pair.publicKey })).toMatchObject({
      ok: false,
      brokenAt: 2,
      reason: 'checkpoint-mismatch',
    });
    const c = cli();
    expect(await runCli(['audit', 'verify', path, '--public-key', pair.publicKey], c.io)).toBe(1);
    expect(c.out()).toMatch(/chain broken at record seq 2 .*checkpoint-mismatch/);
  });

  it('fails heads re-signed with another key, records added unsigned, and a cut tail', async () => {
    const resigned = await keyedLog(2);
    const other = generateAgentKeyPair();
    writeFileSync(
      `${resigned}.heads`,
      lines(resigned)
        .map((l) => JSON.parse(l) as AuditRecord)
        .map(
          (r) =>
            `${JSON.stringify(signCheckpoint(other.privateKeyPem, { scope: 'agent', tenantId: 'acme', connectorId: 'c-1' }, r))}\n`,
        )
        .join(''),
    );
    expect(await verifyAuditFile(resigned, { publicKey: pair.publicKey })).toMatchObject({
      ok: false,
      reason: 'checkpoint-signature',
    });

    const appended = await keyedLog(2);
    const log = await openAuditLog({ path: appended });
    await log.append(entry(3));
    await log.close();
    expect(await verifyAuditFile(appended, { publicKey: pair.publicKey })).toMatchObject({
      ok: false,
      brokenAt: 3,
      reason: 'unsigned-head',
    });

    const cut = await keyedLog(3);
    writeFileSync(
      cut,
      lines(cut)
        .slice(0, 2)
        .map((l) => `${l}\n`)
        .join(''),
    );
    expect(await verifyAuditFile(cut, { publicKey: pair.publicKey })).toMatchObject({
      ok: false,
      brokenAt: 3,
      reason: 'checkpoint-mismatch',
    });
  });
});
