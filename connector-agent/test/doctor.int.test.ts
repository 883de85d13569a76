import { randomBytes } from 'node:crypto';
import { chmodSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { PassThrough } from 'node:stream';
import { Client } from 'pg';
import { createConnection } from 'mysql2/promise';
import { generateApiKey } from '@vansales/protocol';
import { testServices } from '@vansales/test-kit';
import { runCli } from '../src/main';

const services = testServices();
const pgUrl = new URL(services.postgresUrl());

async function doctor(
  databases: Record<string, object>,
  prepare: (dir: string) => void = () => undefined,
): Promise<{ code: number; out: string }> {
  const dir = mkdtempSync(join(tmpdir(), 'vsc-doctor-'));
  prepare(dir);
  const path = join(dir, 'agent.json');
  writeFileSync(
    path,
    JSON.stringify({
      gatewayUrl: 'wss://gateway.example.com/v1/agent/connect',
      apiKey: generateApiKey('acme'),
      databases,
    }),
    { mode: 0o600 },
  );
  const out = new PassThrough();
  const chunks: string[] = [];
  out.on('data', (d) => chunks.push(String(d)));
  const code = await runCli(['doctor', '--config', path], {
    stdin: new PassThrough(),
    stdout: out,
    stderr: out,
    env: {},
  });
  return { code, out: chunks.join('') };
}

describe('mini-connector doctor (real PostgreSQL and MariaDB)', () => {
  const reader = { user: `doc_${randomBytes(4).toString('hex')}`, password: randomBytes(12).toString('hex') };

  beforeAll(async () => {
    const my = await createConnection(services.mariadb);
    await my.query(`CREATE USER '${reader.user}'@'127.0.0.1' IDENTIFIED BY ${my.escape(reader.password)}`);
    await my.query(`GRANT SELECT ON sakila.* TO '${reader.user}'@'127.0.0.1'`);
    await my.end();
    const pg = new Client({ connectionString: services.postgresUrl('pagila') });
    await pg.connect();
    await pg.query(`CREATE ROLE ${reader.user} LOGIN PASSWORD '${reader.password}'`);
    await pg.query(`GRANT USAGE ON SCHEMA public TO ${reader.user}`);
    await pg.query(`GRANT SELECT ON ALL TABLES IN SCHEMA public TO ${reader.user}`);
    // Pagila's dump leaves CREATE on schema public to everyone; a read-only login needs it gone.
    await pg.query('REVOKE CREATE ON SCHEMA public FROM PUBLIC');
    await pg.end();
  });

  it('warns about logins that can write and recommends a read-only one', async () => {
    const { code, out } = await doctor({
      sakila: {
        dialect: 'mysql',
        host: services.mariadb.host,
        port: services.mariadb.port,
        user: 'root',
        password: services.mariadb.password,
        database: 'sakila',
      },
      pagila: {
        dialect: 'postgres',
        host: '127.0.0.1',
        port: Number(pgUrl.port),
        user: 'postgres',
        password: decodeURIComponent(pgUrl.password),
        database: 'pagila',
      },
    });
    expect(code).toBe(1);
    expect(out).toMatch(
      /WARN {2}sakila \(mysql, root@127\.0\.0\.1:\d+\/sakila\): this login can write:\n\s+- ALL PRIVILEGES, GRANT OPTION on \*\.\*/,
    );
    expect(out).toMatch(
      /WARN {2}pagila \(postgres, postgres@127\.0\.0\.1:\d+\/pagila\): this login can write:\n\s+- superuser/,
    );
    expect(out).toContain("GRANT SELECT, SHOW VIEW ON `sakila`.* TO 'vansales_reader'");
    expect(out).toContain('ALTER ROLE vansales_reader SET default_transaction_read_only = on;');
    expect(out).not.toContain(services.mariadb.password);
  });

  it('passes read-only logins', async () => {
    const { code, out } = await doctor({
      sakila: {
        dialect: 'mysql',
        host: services.mariadb.host,
        port: services.mariadb.port,
        ...reader,
        database: 'sakila',
      },
      pagila: { dialect: 'postgres', host: '127.0.0.1', port: Number(pgUrl.port), ...reader, database: 'pagila' },
    });
    expect(out).toMatch(/ok {4}sakila \(mysql, doc_[0-9a-f]+@127\.0\.0\.1:\d+\/sakila\): read-only login/);
    expect(out).toMatch(/ok {4}pagila \(postgres, doc_[0-9a-f]+@127\.0\.0\.1:\d+\/pagila\): read-only login/);
    expect(code).toBe(0);
  });

  it('says which database it could not check', async () => {
    const { code, out } = await doctor({
      gone: { dialect: 'mysql', host: '127.0.0.1', port: 1, user: 'x', password: 'y', database: 'z' },
    });
    expect(code).toBe(2);
    expect(out).toMatch(/FAIL {2}gone \(mysql, x@127\.0\.0\.1:1\/z\): cannot check: ECONNREFUSED/);
  });

  it('also prints the checks a running agent reports: a broken policy file, a folder others can list', async () => {
    const { code, out } = await doctor({}, (dir) => {
      writeFileSync(join(dir, 'policy.json'), '{ not json');
      chmodSync(dir, 0o755);
    });
    expect(code).toBe(1);
    expect(out).toMatch(/^ERROR policy\.invalid: the site policy .*policy\.json is not valid JSON/m);
    expect(out).toMatch(
      /^WARN {2}state\.permissions: the agent's folder .* can be listed by other users\n {6}Run: chmod 700 /m,
    );
  });
});
