import { chmodSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { addressProblem, cloudCredentialsFrom, loadCloudCredentials } from '../src/cloud';
import { cloudEgress } from '../src/cloud/egress-guard';

describe('the cloud egress guard', () => {
  it.each([
    ['127.0.0.1'],
    ['10.1.2.3'],
    ['172.16.0.1'],
    ['192.168.1.1'],
    ['100.64.0.1'],
    ['::1'],
    ['fd12::1'],
    ['::ffff:127.0.0.1'],
    ['::ffff:10.0.0.1'],
  ])('refuses the private or loopback address %s by default', (ip) => {
    expect(addressProblem(ip, false)).toMatch(/private or loopback/);
  });

  it.each([['169.254.169.254'], ['fd00:ec2::254'], ['100.100.100.200'], ['fe80::1'], ['0.0.0.0'], ['224.0.0.1']])(
    'refuses the metadata, link-local or reserved address %s even when private ranges are allowed',
    (ip) => {
      expect(addressProblem(ip, true)).toMatch(/link-local, metadata or reserved/);
    },
  );

  it('allows public addresses, and private ones only when told to', () => {
    expect(addressProblem('93.184.216.34', false)).toBeUndefined();
    expect(addressProblem('2606:2800:220:1:248:1893:25c8:1946', false)).toBeUndefined();
    expect(addressProblem('127.0.0.1', true)).toBeUndefined();
  });

  it('checks every address a name resolves to, and only http(s)', async () => {
    const egress = cloudEgress({ allowPrivate: false, timeoutMs: 1000, maxResponseBytes: 1024 });
    await expect(egress.resolve('localhost')).rejects.toThrow(/localhost resolves to .* private or loopback/);
    await expect(egress.resolve('[::1]')).rejects.toThrow(/private or loopback/);
    expect(() => egress.check(new URL('ftp://example.com/x'))).toThrow(/only http and https/);
    expect(() => egress.check(new URL('file:///etc/passwd'))).toThrow(/only http and https/);
  });
});

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
