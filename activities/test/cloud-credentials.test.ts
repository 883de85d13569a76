import { chmodSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { cloudCredentialsFrom, loadCloudCredentials } from '../src/cloud';

describe('cloud credentials', () => {
  const dir = mkdtempSync(join(tmpdir(), 'vsc-cred-'));
  const write = (body: unknown, mode: number) => {
    const path = join(dir, `c-${Math.random().toString(36).slice(2)}.json`);
    writeFileSync(path, JSON.stringify(body));
    chmodSync(path, mode);
    return path;
  };
  const entries = {
    acme: {
      crm: { kind: 'bearer', token: 'tok-secret-1' },
      erp: { kind: 'basic', username: 'u', password: 'p-secret-2' },
      shop: { kind: 'header', name: 'X-Api-Key', value: 'k-secret-3' },
    },
  } as const;

  it('attaches each kind as headers, for its own tenant and names only', () => {
    const creds = cloudCredentialsFrom(entries);
    expect(creds.headers('acme', 'crm')).toEqual({ authorization: 'Bearer tok-secret-1' });
    expect(creds.headers('acme', 'erp')).toEqual({
      authorization: `Basic ${Buffer.from('u:p-secret-2').toString('base64')}`,
    });
    expect(creds.headers('acme', 'shop')).toEqual({ 'x-api-key': 'k-secret-3' });
    expect(creds.headers('other', 'crm')).toBeUndefined();
    expect(creds.headers('acme', '__proto__')).toBeUndefined();
    expect(creds.headers('__proto__', 'crm')).toBeUndefined();
  });

  it('refuses a file others can read, naming the chmod, and never echoes a value of a bad file', () => {
    if (process.platform === 'win32') return;
    expect(() => loadCloudCredentials(write(entries, 0o644))).toThrow(/chmod 600/);
    expect(loadCloudCredentials(write(entries, 0o600)).headers('acme', 'crm')).toBeDefined();
    const bad = write({ acme: { crm: { kind: 'bearer', token: 'tok-secret-4\r\nX-Evil: 1' } } }, 0o600);
    let message = '';
    try {
      loadCloudCredentials(bad);
    } catch (err) {
      message = (err as Error).message;
    }
    expect(message).toMatch(/acme\.crm\.token/);
    expect(message).not.toContain('tok-secret-4');
  });
});
