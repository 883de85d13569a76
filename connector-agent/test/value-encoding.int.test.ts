import { randomBytes } from 'node:crypto';
import { Client as PgClient } from 'pg';
import { createConnection } from 'mysql2/promise';
import { testServices, throwawayPostgresDatabase } from '@vansales/test-kit';
import { decodeChunk } from '@vansales/dataflow';
import type { BufferGrant, Dialect } from '@vansales/protocol';
import type { BufferClient } from '../src/buffer/buffer-client';
import { createDataExtract } from '../src/operations/data-extract';
import { createSqlQuery } from '../src/operations/sql-query';
import { DEFAULT_SITE_POLICY } from '../src/policy/site-policy';
import { siteDatabases, type SiteDatabases } from '../src/site-database/site-database';

/*
 * The agent's one value encoding (README "Value encoding"), pinned on the values that used to
 * come out differently from sql.query and data.extract: a BIGINT past 2^53, a DECIMAL(65,30) and a
 * JSON document holding a number a double cannot carry, on PostgreSQL and MariaDB alike.
 */

const services = testServices();
const DECIMAL = '12345678901234567890123456789012345.123456789012345678901234567890';
const EXPECTED = [1, '9007199254740993', DECIMAL, { n: '12345678901234567890', f: 0.5 }, 42];
const ctx = { signal: new AbortController().signal, progress: () => undefined, attempt: 1 };

/** Where data.extract's chunks go: kept here instead of uploaded, so the test reads exactly the bytes that would leave. */
function chunksInMemory(): BufferClient & { chunks: Buffer[] } {
  const chunks: Buffer[] = [];
  return {
    chunks,
    publishSchema: async () => undefined,
    putChunk: async (_grant, index, bytes) => void (chunks[index] = bytes),
    commit: async () => undefined,
    manifest: async () => {
      throw new Error('not a load');
    },
    committedManifest: async () => undefined,
    getChunk: async () => {
      throw new Error('not a load');
    },
    follow: () => {
      throw new Error('not a load');
    },
  };
}

describe.each<[Dialect, string]>([
  ['postgres', 'PostgreSQL'],
  ['mysql', 'MariaDB'],
])('%s: sql.query and data.extract encode the same values the same way', (dialect) => {
  let databases: SiteDatabases;
  let drop: () => Promise<void>;

  beforeAll(async () => {
    if (dialect === 'postgres') {
      const db = await throwawayPostgresDatabase('vsc_enc');
      drop = db.drop;
      const pg = new PgClient({ connectionString: db.url });
      await pg.connect();
      await pg.query(
        'CREATE TABLE enc (id int PRIMARY KEY, big bigint, amount numeric(65,30), doc jsonb, small bigint)',
      );
      await pg.query(
        `INSERT INTO enc VALUES (1, 9007199254740993, '${DECIMAL}', '{"n": 12345678901234567890, "f": 0.5}', 42)`,
      );
      await pg.end();
      const url = new URL(db.url);
      databases = siteDatabases({
        enc: {
          dialect,
          host: url.hostname,
          port: Number(url.port),
          user: decodeURIComponent(url.username),
          password: decodeURIComponent(url.password),
          database: db.name,
          statementTimeoutMs: 30_000,
        },
      });
    } else {
      const name = `vsc_enc_${randomBytes(4).toString('hex')}`;
      const my = await createConnection(services.mariadb);
      await my.query(`CREATE DATABASE ${name} CHARACTER SET utf8mb4`);
      await my.query(
        `CREATE TABLE ${name}.enc (id int PRIMARY KEY, big bigint, amount decimal(65,30), doc json, small bigint)`,
      );
      await my.query(
        `INSERT INTO ${name}.enc VALUES (1, 9007199254740993, '${DECIMAL}', '{"n": 12345678901234567890, "f": 0.5}', 42)`,
      );
      await my.end();
      drop = async () => {
        const c = await createConnection(services.mariadb);
        await c.query(`DROP DATABASE IF EXISTS ${name}`);
        await c.end();
      };
      databases = siteDatabases({ enc: { ...services.mariadb, dialect, database: name, statementTimeoutMs: 30_000 } });
    }
  });

  afterAll(async () => {
    await databases?.close();
    await drop?.();
  });

  it('sql.query: 64-bit integers past 2^53 and decimals as exact strings, big JSON numbers as their text', async () => {
    const query = createSqlQuery(databases.get);
    const out = (await query({ database: 'enc', sql: 'SELECT id, big, amount, doc, small FROM enc' }, ctx)) as {
      rows: unknown[][];
    };
    expect(out.rows).toEqual([EXPECTED]);
  });

  it('data.extract: the chunk that leaves the site holds the very same values', async () => {
    const buffer = chunksInMemory();
    const objectId = `enc-${randomBytes(6).toString('hex')}`;
    const grant: BufferGrant = {
      objectId,
      token: randomBytes(16).toString('hex'),
      scope: 'write',
      expiresAt: new Date(Date.now() + 60_000).toISOString(),
    };
    const extract = createDataExtract({ database: databases.get, policy: () => DEFAULT_SITE_POLICY }, buffer);
    await extract(
      {
        database: 'enc',
        source: { table: { name: 'enc' }, columns: ['id', 'big', 'amount', 'doc', 'small'] },
        objectId,
        buffer: grant,
      },
      ctx,
    );
    expect(buffer.chunks).toHaveLength(1);
    expect(await decodeChunk(buffer.chunks[0]!)).toEqual([EXPECTED]);
  });
});
