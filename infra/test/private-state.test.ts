import { chmodSync, existsSync, mkdirSync, mkdtempSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { which } from '../src/install';
import { checkSecretFile, prepareStateDir, privateStateDir, stateDirMode } from '../src/private-state';
import { loadOrCreateSecrets } from '../src/secrets';
import { rootPasswordSql } from '../src/services/mariadb';

let work: string;
beforeEach(() => {
  work = mkdtempSync(join(tmpdir(), 'vsc-infra-private-'));
});
afterEach(() => rmSync(work, { recursive: true, force: true }));
const mode = (p: string) => statSync(p).mode & 0o777;

describe('state folders and secrets of ./vsc', () => {
  it('creates the state folders private (0700; 0711 as root, so the database users reach their own folders)', () => {
    const dir = join(work, '.vsc', 'test');
    prepareStateDir(dir);
    expect(mode(dir)).toBe(stateDirMode());
    expect(mode(join(work, '.vsc'))).toBe(stateDirMode());
    privateStateDir(join(dir, 'logs'));
    expect(mode(join(dir, 'logs'))).toBe(0o700);
  });

  it('refuses a state or log folder open to others, with the chmod', () => {
    const logs = join(work, 'logs');
    mkdirSync(logs);
    chmodSync(logs, 0o755);
    expect(() => privateStateDir(logs)).toThrow(`${logs} is open to other users (mode 0755); run: chmod 700 ${logs}`);
  });

  it('refuses a secrets.json other users can read', () => {
    const dir = join(work, 'state');
    mkdirSync(dir);
    const secrets = loadOrCreateSecrets(dir);
    expect(mode(join(dir, 'secrets.json'))).toBe(0o600);
    expect(loadOrCreateSecrets(dir)).toEqual(secrets);
    chmodSync(join(dir, 'secrets.json'), 0o644);
    expect(() => loadOrCreateSecrets(dir)).toThrow(
      /secrets.json can be read by other users \(mode 0644\); run: chmod 600/,
    );
    writeFileSync(join(work, 'loose'), 'x', { mode: 0o640 });
    chmodSync(join(work, 'loose'), 0o640);
    expect(() => checkSecretFile(join(work, 'loose'), 'a secret')).toThrow(/chmod 600/);
  });

  it('gives MariaDB root its password in an init file, quoted as a SQL string', () => {
    const sql = rootPasswordSql("p'w\\x");
    expect(sql).toContain(`ALTER USER 'root'@'localhost' IDENTIFIED BY 'p\\'w\\\\x';`);
    expect(sql).toContain(`CREATE USER IF NOT EXISTS 'root'@'127.0.0.1' IDENTIFIED BY 'p\\'w\\\\x';`);
  });

  it('looks a binary up without the shell running anything in its name', () => {
    const marker = join(work, 'ran');
    expect(which(`sh; touch ${marker}`)).toBeUndefined();
    expect(existsSync(marker)).toBe(false);
    expect(which('sh')).toMatch(/\/sh$/);
  });
});
