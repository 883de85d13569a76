import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { Readable, Writable } from 'node:stream';
import { format as mysql2Format } from 'mysql2';
import { checkReadOnlySql } from '@vansales/connector-agent';
import type { Dialect } from '@vansales/protocol';
import { runCli } from '../src/main';
import { bindMysqlParameters } from '../src/sql-guard';

interface CorpusEntry {
  sql: string;
  allowed: boolean;
  why?: string;
}

const DIALECTS: Dialect[] = ['postgres', 'mysql', 'mssql'];
const corpus = (dialect: Dialect): CorpusEntry[] =>
  JSON.parse(readFileSync(join(__dirname, 'sql-corpus', `${dialect}.json`), 'utf8'));
const label = (e: CorpusEntry) =>
  `${e.allowed ? 'allows' : 'refuses'} ${JSON.stringify(e.sql)}${e.why ? ` (${e.why})` : ''}`;

describe.each(DIALECTS)('read-only SQL guard, %s corpus', (dialect) => {
  test.each(corpus(dialect).map((e) => [label(e), e] as const))('%s', async (_name, entry) => {
    const verdict = await checkReadOnlySql(entry.sql, dialect);
    expect(verdict).toEqual(
      entry.allowed ? { allowed: true } : { allowed: false, reason: expect.stringMatching(/^\S.{20,}\.$/s) },
    );
  });
});

describe('read-only SQL guard', () => {
  it('has a corpus of at least 150 statements, with allowed and refused ones in every dialect', () => {
    const all = DIALECTS.map(corpus);
    expect(all.flat().length).toBeGreaterThanOrEqual(150);
    for (const entries of all) {
      expect(entries.filter((e) => e.allowed).length).toBeGreaterThanOrEqual(20);
      expect(entries.filter((e) => !e.allowed).length).toBeGreaterThanOrEqual(30);
    }
  });

  it('reads each text with its own dialect: the same text can be safe in one and a stacked write in another', async () => {
    // PostgreSQL: -- always starts a comment. MySQL: --1 is minus minus one, so a DROP follows.
    const dashes = 'SELECT 1 --1; DROP TABLE orders';
    expect(await checkReadOnlySql(dashes, 'postgres')).toEqual({ allowed: true });
    expect(await checkReadOnlySql(dashes, 'mysql')).toEqual({
      allowed: false,
      reason: expect.stringMatching(/2 MySQL\/MariaDB statements/),
    });
    // MySQL: # starts a comment. PostgreSQL: # is an operator, and the DROP is a second statement.
    const hash = 'SELECT 1 # ; DROP TABLE orders';
    expect(await checkReadOnlySql(hash, 'mysql')).toEqual({ allowed: true });
    expect((await checkReadOnlySql(hash, 'postgres')).allowed).toBe(false);
    // T-SQL comments nest, MySQL ones do not.
    const nested = 'SELECT 1 /* /* */ ; DROP TABLE orders; /* */ */';
    expect(await checkReadOnlySql(nested, 'mssql')).toEqual({ allowed: true });
    expect(await checkReadOnlySql(nested, 'postgres')).toEqual({ allowed: true });
    expect(await checkReadOnlySql(nested, 'mysql')).toEqual({
      allowed: false,
      reason: expect.stringMatching(/3 MySQL\/MariaDB statements/),
    });
    // A backslash ends nothing in T-SQL; in MySQL it escapes the quote.
    expect(await checkReadOnlySql("SELECT 'C:\\' AS path", 'mssql')).toEqual({ allowed: true });
    expect((await checkReadOnlySql("SELECT 'C:\\' AS path", 'mysql')).allowed).toBe(false);
  });

  it('says why, naming what it found', async () => {
    const reason = async (sql: string, dialect: Dialect) => {
      const verdict = await checkReadOnlySql(sql, dialect);
      return verdict.allowed ? '(allowed)' : verdict.reason;
    };
    expect(await reason('SELECT pg_sleep(10)', 'postgres')).toMatch(/pg_sleep\(\)/);
    expect(await reason('WITH d AS (DELETE FROM t RETURNING *) SELECT * FROM d', 'postgres')).toMatch(
      /DELETE.*WITH clause/,
    );
    expect(await reason('SELECT * FROM t FOR UPDATE', 'postgres')).toMatch(/FOR UPDATE/);
    expect(await reason('SELECT * INTO x FROM t', 'postgres')).toMatch(/SELECT INTO/);
    expect(await reason('EXPLAIN ANALYZE SELECT 1', 'postgres')).toMatch(/EXPLAIN ANALYZE executes/);
    expect(await reason('SELECT 1 /*!50000 INTO OUTFILE "/tmp/x" */', 'mysql')).toMatch(/executable comment/);
    expect(await reason('SELECT `sleep`(1)', 'mysql')).toMatch(/SLEEP\(\)/);
    expect(await reason('SELECT * FROM t INTO OUTFILE "/tmp/x"', 'mysql')).toMatch(/INTO/);
    expect(await reason("SELECT 'a\\' , '; DROP TABLE t; -- '", 'mysql')).toMatch(/NO_BACKSLASH_ESCAPES/);
    expect(await reason('SELECT a FROM t WITH (UPDLOCK)', 'mssql')).toMatch(/UPDLOCK/);
    expect(await reason('SELECT 1 SELECT 2', 'mssql')).toMatch(/second T-SQL statement/);
    expect(await reason('SELECT 1', 'oracle' as Dialect)).toMatch(/Unknown SQL dialect "oracle"/);
  });
});

describe('MySQL parameters', () => {
  const bind = (sql: string, params: (string | number | boolean | null)[]) => {
    const bound = bindMysqlParameters(sql, params);
    if (!bound.ok) throw new Error(bound.reason);
    return bound.sql;
  };

  it('binds values as literals that read the same under every sql_mode, so the guard can check the final text', async () => {
    const sql = bind(
      "SELECT '?' AS q, name FROM customers WHERE name = ? AND id > ? AND active = ? AND note IS ? # ?",
      ["O'Brien", -1, true, null],
    );
    expect(sql).toBe(
      "SELECT '?' AS q, name FROM customers WHERE name =  'O''Brien'  AND id >  -1  AND active =  TRUE  AND note IS  NULL  # ?",
    );
    expect(await checkReadOnlySql(sql, 'mysql')).toEqual({ allowed: true });
    // mysql2's own escaping (a backslash before the quote) is what a NO_BACKSLASH_ESCAPES server misreads.
    expect(
      (await checkReadOnlySql(mysql2Format('SELECT name FROM customers WHERE name = ?', ["O'Brien"]), 'mysql')).allowed,
    ).toBe(false);
  });

  it('sends strings with a backslash as hex, so a crafted value cannot end its string on any server', async () => {
    const sql = bind('SELECT id FROM customers WHERE name = ?', ["x\\' OR SLEEP(5) OR '"]);
    expect(sql).toBe(
      `SELECT id FROM customers WHERE name =  CONVERT(X'${Buffer.from("x\\' OR SLEEP(5) OR '").toString('hex')}' USING utf8mb4) `,
    );
    expect(await checkReadOnlySql(sql, 'mysql')).toEqual({ allowed: true });
    expect(bind('SELECT 1 - ?', [-1])).toBe('SELECT 1 -  -1 ');
  });

  it('refuses a placeholder count that does not match the parameters', () => {
    expect(bindMysqlParameters('SELECT ? + ?', [1])).toEqual({
      ok: false,
      reason: expect.stringMatching(/2 \? placeholder\(s\) but 1 parameter/),
    });
    expect(bindMysqlParameters("SELECT '?'", [1])).toEqual({
      ok: false,
      reason: expect.stringMatching(/0 \? placeholder/),
    });
    expect(bindMysqlParameters('SELECT ?', [Number.NaN])).toEqual({
      ok: false,
      reason: expect.stringMatching(/not a finite number/),
    });
    expect(bindMysqlParameters('SELECT ?', [])).toEqual({ ok: true, sql: 'SELECT ?' });
  });
});

async function cli(argv: string[], stdin: (string | Buffer)[]) {
  let out = '';
  let err = '';
  const sink = (append: (s: string) => void) =>
    new Writable({ write: (chunk: Buffer, _enc, done) => (append(chunk.toString('utf8')), done()) });
  const code = await runCli(argv, {
    stdin: Readable.from(stdin),
    stdout: sink((s) => (out += s)),
    stderr: sink((s) => (err += s)),
    env: {},
  });
  return { code, out, err };
}

describe('mini-connector sql check', () => {
  it('prints allowed and exits 0 for a read', async () => {
    expect(await cli(['sql', 'check', '--dialect', 'postgres'], ['SELECT "update" FROM customers\n'])).toEqual({
      code: 0,
      out: 'allowed\n',
      err: '',
    });
    expect(
      await cli(['sql', 'check', '--dialect=mssql'], [Buffer.from('SELECT [delete] '), Buffer.from('FROM t')]),
    ).toEqual({ code: 0, out: 'allowed\n', err: '' });
  });

  it('prints the reason to stderr and exits 1 for a refused text, reading all of stdin', async () => {
    const res = await cli(['sql', 'check', '--dialect', 'mysql'], ['SELECT 1', '; DROP TABLE orders']);
    expect(res).toEqual({
      code: 1,
      out: '',
      err: expect.stringMatching(/^The text holds 2 MySQL\/MariaDB statements.*\n$/),
    });
    const sleep = await cli(['sql', 'check', '--dialect', 'postgres'], ['SELECT pg_sleep(10)']);
    expect(sleep).toEqual({ code: 1, out: '', err: expect.stringMatching(/pg_sleep/) });
  });

  it('exits 2 with the usage on bad usage', async () => {
    for (const argv of [
      ['sql', 'check'],
      ['sql', 'check', '--dialect', 'oracle'],
      ['sql', 'check', '--dialect', 'mysql', 'extra'],
      ['sql', 'check', '--dialect'],
    ]) {
      const res = await cli(argv, ['SELECT 1']);
      expect(res.code).toBe(2);
      expect(res.out).toBe('');
      expect(res.err).toMatch(/usage: mini-connector sql check --dialect <postgres\|mysql\|mssql>/);
    }
  });

  it('is listed in the top-level usage and answers --help', async () => {
    expect((await cli(['--help'], [])).out).toMatch(/sql check\s+check one SQL text/);
    expect(await cli(['sql', 'check', '--help'], [])).toEqual({
      code: 0,
      out: expect.stringMatching(/^usage: mini-connector sql check/),
      err: '',
    });
  });
});
