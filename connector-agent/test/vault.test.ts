import { chmodSync, mkdtempSync, readFileSync, readdirSync, statSync, unlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { openVault, resolveSecrets, hasVaultReferences, VaultError, VAULT_FILE, VAULT_KEY_FILE } from '../src/vault';
import { machineId } from '../src/machine-id';

const SECRET = 'pw-Zq8v!unique-4711';
const fresh = () => join(mkdtempSync(join(tmpdir(), 'vsc-vault-')), 'site');
const mode = (path: string) => statSync(path).mode & 0o777;

function codeOf(fn: () => unknown): string | undefined {
  try {
    fn();
  } catch (err) {
    expect(err).toBeInstanceOf(VaultError);
    expect((err as Error).message).not.toContain(SECRET);
    return (err as VaultError).code;
  }
  return undefined;
}

describe('local credential vault', () => {
  it('round-trips secrets across openings, and lists, replaces and deletes them', () => {
    const dir = fresh();
    const vault = openVault({ dir, machineId: 'machine-a' });
    expect(vault.names()).toEqual([]);
    vault.set('database.erp.password', SECRET);
    vault.set('apiKey', 'vmc_key');
    vault.set('apiKey', 'vmc_key_2');

    const again = openVault({ dir, machineId: 'machine-a' });
    expect(again.names()).toEqual(['apiKey', 'database.erp.password']);
    expect(again.get('database.erp.password')).toBe(SECRET);
    expect(again.get('apiKey')).toBe('vmc_key_2');
    expect(again.get('nope')).toBeUndefined();
    expect(again.delete('apiKey')).toBe(true);
    expect(again.delete('apiKey')).toBe(false);
    expect(openVault({ dir, machineId: 'machine-a' }).names()).toEqual(['database.erp.password']);
  });

  it("uses this machine's id by default", () => {
    const dir = fresh();
    openVault({ dir }).set('x', SECRET);
    expect(openVault({ dir, machineId: machineId() }).get('x')).toBe(SECRET);
    expect(codeOf(() => openVault({ dir, machineId: 'elsewhere' }))).toBe('wrong-machine');
  });

  it('keeps the secret out of the file, the key and the vault at mode 0600, the folder at 0700, and leaves no temp files', () => {
    const dir = fresh();
    const vault = openVault({ dir, machineId: 'machine-a' });
    vault.set('db', SECRET);
    vault.set('other', 'x');
    expect(readFileSync(join(dir, VAULT_FILE), 'utf8')).not.toContain(SECRET);
    expect(readFileSync(join(dir, VAULT_FILE)).includes(Buffer.from(SECRET))).toBe(false);
    expect(mode(join(dir, VAULT_FILE))).toBe(0o600);
    expect(mode(join(dir, VAULT_KEY_FILE))).toBe(0o600);
    expect(mode(dir)).toBe(0o700);
    expect(statSync(join(dir, VAULT_KEY_FILE)).size).toBe(32);
    expect(readdirSync(dir).sort()).toEqual([VAULT_KEY_FILE, VAULT_FILE].sort());
  });

  it('uses a fresh IV on every write', () => {
    const dir = fresh();
    const vault = openVault({ dir, machineId: 'machine-a' });
    vault.set('db', SECRET);
    const first = JSON.parse(readFileSync(join(dir, VAULT_FILE), 'utf8'));
    vault.set('db', SECRET);
    const second = JSON.parse(readFileSync(join(dir, VAULT_FILE), 'utf8'));
    expect(second.iv).not.toBe(first.iv);
    expect(second.data).not.toBe(first.data);
  });

  it('refuses a vault copied to another machine, saying so', () => {
    const dir = fresh();
    openVault({ dir, machineId: 'machine-a' }).set('db', SECRET);
    expect(codeOf(() => openVault({ dir, machineId: 'machine-b' }))).toBe('wrong-machine');
    expect(() => openVault({ dir, machineId: 'machine-b' })).toThrow(/sealed on another machine/);
  });

  it('refuses a forged machine fingerprint: the key still differs', () => {
    const dir = fresh();
    openVault({ dir, machineId: 'machine-a' }).set('db', SECRET);
    const other = fresh();
    openVault({ dir: other, machineId: 'machine-b' }).set('db', 'x');
    const file = JSON.parse(readFileSync(join(dir, VAULT_FILE), 'utf8'));
    file.machine = JSON.parse(readFileSync(join(other, VAULT_FILE), 'utf8')).machine;
    writeFileSync(join(dir, VAULT_FILE), JSON.stringify(file));
    expect(codeOf(() => openVault({ dir, machineId: 'machine-b' }))).toBe('wrong-key');
  });

  it('refuses a tampered ciphertext, tag or header, naming the integrity check', () => {
    const dir = fresh();
    openVault({ dir, machineId: 'machine-a' }).set('db', SECRET);
    const original = readFileSync(join(dir, VAULT_FILE), 'utf8');
    const flip = (hex: string) => (hex[0] === '0' ? '1' : '0') + hex.slice(1);
    for (const field of ['data', 'tag', 'iv']) {
      const file = JSON.parse(original);
      file[field] = flip(file[field]);
      writeFileSync(join(dir, VAULT_FILE), JSON.stringify(file));
      expect(codeOf(() => openVault({ dir, machineId: 'machine-a' }))).toBe('tampered');
    }
    writeFileSync(join(dir, VAULT_FILE), original);
    expect(openVault({ dir, machineId: 'machine-a' }).get('db')).toBe(SECRET);
    expect(() => {
      writeFileSync(
        join(dir, VAULT_FILE),
        original.replace(/"data": "([0-9a-f])/, (_m, c: string) => `"data": "${c === 'a' ? 'b' : 'a'}`),
      );
      openVault({ dir, machineId: 'machine-a' });
    }).toThrow(/failed its integrity check/);
  });

  it('refuses a vault whose key is missing, replaced, readable by others, or that is not a vault', () => {
    const dir = fresh();
    openVault({ dir, machineId: 'machine-a' }).set('db', SECRET);
    const key = readFileSync(join(dir, VAULT_KEY_FILE));

    chmodSync(join(dir, VAULT_KEY_FILE), 0o644);
    expect(codeOf(() => openVault({ dir, machineId: 'machine-a' }))).toBe('key-permissions');
    chmodSync(join(dir, VAULT_KEY_FILE), 0o600);
    // The sealed vault too: a copy readable by others is refused, naming the chmod.
    chmodSync(join(dir, VAULT_FILE), 0o644);
    expect(codeOf(() => openVault({ dir, machineId: 'machine-a' }))).toBe('key-permissions');
    expect(() => openVault({ dir, machineId: 'machine-a' })).toThrow(`run: chmod 600 ${join(dir, VAULT_FILE)}`);
    chmodSync(join(dir, VAULT_FILE), 0o600);

    writeFileSync(join(dir, VAULT_KEY_FILE), Buffer.alloc(32, 7), { mode: 0o600 });
    expect(codeOf(() => openVault({ dir, machineId: 'machine-a' }))).toBe('wrong-key');
    writeFileSync(join(dir, VAULT_KEY_FILE), Buffer.alloc(5), { mode: 0o600 });
    expect(codeOf(() => openVault({ dir, machineId: 'machine-a' }))).toBe('key-invalid');
    writeFileSync(join(dir, VAULT_KEY_FILE), key, { mode: 0o600 });

    const vaultText = readFileSync(join(dir, VAULT_FILE), 'utf8');
    writeFileSync(join(dir, VAULT_FILE), 'not json');
    expect(codeOf(() => openVault({ dir, machineId: 'machine-a' }))).toBe('corrupt');
    writeFileSync(join(dir, VAULT_FILE), vaultText.replace('"version": 1', '"version": 9'));
    expect(codeOf(() => openVault({ dir, machineId: 'machine-a' }))).toBe('unsupported-version');
    writeFileSync(join(dir, VAULT_FILE), vaultText);

    const noKey = fresh();
    openVault({ dir: noKey, machineId: 'm' }).set('db', SECRET);
    unlinkSync(join(noKey, VAULT_KEY_FILE));
    expect(codeOf(() => openVault({ dir: noKey, machineId: 'm' }))).toBe('key-missing');
  });

  it('refuses secret names outside the allowed characters', () => {
    const vault = openVault({ dir: fresh(), machineId: 'm' });
    expect(codeOf(() => vault.set('has space', 'x'))).toBe('bad-name');
    expect(codeOf(() => vault.get('../etc'))).toBe('bad-name');
  });
});

describe('resolving vault references in agent.json', () => {
  const raw = () => ({
    gatewayUrl: 'wss://g.example.com/v1/agent/connect',
    apiKey: { vault: 'apiKey' },
    databases: {
      erp: {
        dialect: 'mysql',
        host: 'db',
        port: 3306,
        user: 'reader',
        password: { vault: 'database.erp.password' },
        database: 'erp',
      },
    },
  });

  it('replaces every reference by the stored value and leaves the input untouched', () => {
    const vault = openVault({ dir: fresh(), machineId: 'm' });
    vault.set('apiKey', 'vmc_value');
    vault.set('database.erp.password', SECRET);
    const input = raw();
    expect(hasVaultReferences(input)).toBe(true);
    const resolved = resolveSecrets(input, vault) as ReturnType<typeof raw> & {
      apiKey: string;
      databases: { erp: { password: string } };
    };
    expect(resolved.apiKey).toBe('vmc_value');
    expect(resolved.databases.erp.password).toBe(SECRET);
    expect(resolved.databases.erp.port).toBe(3306);
    expect(input.apiKey).toEqual({ vault: 'apiKey' });
    expect(hasVaultReferences(resolved)).toBe(false);
  });

  it('names the setting and the missing secret, never a value', () => {
    const vault = openVault({ dir: fresh(), machineId: 'm' });
    vault.set('apiKey', SECRET);
    let error: unknown;
    try {
      resolveSecrets(raw(), vault);
    } catch (err) {
      error = err;
    }
    expect(error).toBeInstanceOf(VaultError);
    expect((error as VaultError).code).toBe('missing-secret');
    expect((error as Error).message).toMatch(
      /databases\.erp\.password refers to the vault secret "database\.erp\.password"/,
    );
    expect((error as Error).message).not.toContain(SECRET);
  });

  it('leaves plain strings and objects that are not exactly a reference alone', () => {
    const vault = openVault({ dir: fresh(), machineId: 'm' });
    const plain = { a: 'x', b: { vault: 'n', other: 1 }, c: [1, { d: null }] };
    expect(hasVaultReferences(plain)).toBe(false);
    expect(resolveSecrets(plain, vault)).toEqual(plain);
  });
});
