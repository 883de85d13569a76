import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { DEFAULT_SITE_POLICY, loadSitePolicy, SitePolicyError } from '../src/policy/site-policy';

describe('site policy file', () => {
  const dir = mkdtempSync(join(tmpdir(), 'vsc-policy-'));
  const write = (name: string, body: unknown) => {
    const path = join(dir, name);
    writeFileSync(path, typeof body === 'string' ? body : JSON.stringify(body));
    return path;
  };

  it('allows nothing by default, with or without a missing file', () => {
    expect(DEFAULT_SITE_POLICY.canWrite('dw', { name: 'customer' })).toBe(false);
    const missing = loadSitePolicy(join(dir, 'absent.json'));
    expect(missing.canWrite('dw', { schema: 'public', name: 'customer' })).toBe(false);
    expect(missing.source).toContain('absent.json');
  });

  it('matches tables exactly, by schema wildcard, and by database', () => {
    const policy = loadSitePolicy(
      write('p1.json', {
        writableTables: [
          { database: 'dw', table: 'public.customer' },
          { database: 'dw', table: 'staging.*' },
          { database: 'erp', table: 'orders' },
        ],
      }),
    );
    expect(policy.canWrite('dw', { schema: 'public', name: 'customer' })).toBe(true);
    expect(policy.canWrite('dw', { schema: 'public', name: 'rental' })).toBe(false);
    expect(policy.canWrite('dw', { name: 'customer' })).toBe(false);
    expect(policy.canWrite('dw', { schema: 'staging', name: 'anything' })).toBe(true);
    expect(policy.canWrite('erp', { name: 'orders' })).toBe(true);
    expect(policy.canWrite('erp', { schema: 'x', name: 'orders' })).toBe(true);
    expect(policy.canWrite('other', { name: 'orders' })).toBe(false);
  });

  it('drops, masks and hashes columns; hashing is keyed by the salt', () => {
    const policy = loadSitePolicy(
      write('p2.json', {
        columns: [
          { database: 'erp', table: 'customer', column: 'email', action: 'mask' },
          { database: 'erp', table: 'customer', column: 'ssn', action: 'drop' },
          { database: 'erp', table: '*', column: 'phone', action: 'hash' },
        ],
        hashSalt: 'a-site-secret-of-some-length',
      }),
    );
    expect(policy.columnAction('erp', { name: 'customer' }, 'email')).toBe('mask');
    expect(policy.columnAction('erp', { name: 'customer' }, 'ssn')).toBe('drop');
    expect(policy.columnAction('erp', { name: 'address' }, 'phone')).toBe('hash');
    expect(policy.columnAction('erp', { name: 'customer' }, 'first_name')).toBeUndefined();
    expect(policy.hasColumnRules('erp')).toBe(true);
    expect(policy.hasColumnRules('dw')).toBe(false);
    expect(policy.protect('mask', 'a@b.c')).toBe('****');
    expect(policy.protect('mask', null)).toBeNull();
    const h = policy.protect('hash', '555-1234') as string;
    expect(h).toMatch(/^[0-9a-f]{64}$/);
    expect(policy.protect('hash', '555-1234')).toBe(h);
    const unsalted = loadSitePolicy(write('p3.json', { columns: [] }));
    expect(unsalted.protect('hash', '555-1234')).not.toBe(h);
  });

  it('refuses a broken file with a message naming it, never falling back to allow', () => {
    expect(() => loadSitePolicy(write('bad.json', '{ not json'))).toThrow(SitePolicyError);
    expect(() => loadSitePolicy(write('bad.json', '{ not json'))).toThrow(/bad\.json is not valid JSON/);
    expect(() => loadSitePolicy(write('bad2.json', { writableTables: [{ database: 'dw' }] }))).toThrow(
      /bad2\.json is invalid: writableTables\.0\.table/,
    );
    expect(() => loadSitePolicy(write('bad3.json', { writable: [] }))).toThrow(/bad3\.json is invalid/);
    expect(() =>
      loadSitePolicy(write('bad4.json', { columns: [{ database: 'a', table: 'b', column: 'c', action: 'encrypt' }] })),
    ).toThrow(/columns\.0\.action/);
  });
});
