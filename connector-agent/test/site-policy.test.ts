import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { DEFAULT_SITE_POLICY, loadSitePolicy, readSitePolicyFile, SitePolicyError } from '../src/policy/site-policy';

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
    // Resolved names, as the pipeline passes them (the schema the server resolves, its case rules).
    const pg = { defaultSchema: 'public', caseInsensitive: false };
    expect(policy.canWrite('dw', { schema: 'public', name: 'customer' }, pg)).toBe(true);
    expect(policy.canWrite('dw', { schema: 'public', name: 'rental' }, pg)).toBe(false);
    expect(policy.canWrite('dw', { schema: 'public', name: 'Customer' }, pg)).toBe(false);
    expect(policy.canWrite('dw', { schema: 'staging', name: 'anything' }, pg)).toBe(true);
    expect(policy.canWrite('erp', { schema: 'public', name: 'orders' }, pg)).toBe(true);
    // A schema-less grant is the default schema's table only, not finance.orders.
    expect(policy.canWrite('erp', { schema: 'finance', name: 'orders' }, pg)).toBe(false);
    expect(
      policy.canWrite('erp', { schema: 'shop', name: 'ORDERS' }, { defaultSchema: 'shop', caseInsensitive: true }),
    ).toBe(true);
    expect(policy.canWrite('other', { schema: 'public', name: 'orders' }, pg)).toBe(false);
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
    expect(policy.columnRule('erp', { name: 'customer' }, 'email')?.action).toBe('mask');
    expect(policy.columnRule('erp', { name: 'customer' }, 'ssn')?.action).toBe('drop');
    expect(policy.columnRule('erp', { name: 'address' }, 'phone')?.action).toBe('hash');
    expect(policy.columnRule('erp', { name: 'customer' }, 'first_name')).toBeUndefined();
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

  it('matches rules as the server resolves names: schema, case, and every alias of the same server database', () => {
    const locations = {
      erp: { dialect: 'postgres', host: 'localhost', port: 5432, database: 'erp' },
      erp2: { dialect: 'postgres', host: '127.0.0.1', port: 5432, database: 'erp' },
      other: { dialect: 'postgres', host: '127.0.0.1', port: 5432, database: 'other' },
      shop: { dialect: 'mysql', host: 'db1', port: 3306, database: 'shop' },
      mart: { dialect: 'mysql', host: 'DB1', port: 3306, database: 'mart' },
    };
    const policy = loadSitePolicy(
      write('p5.json', {
        columns: [
          { database: 'erp', table: 'public.customer', column: 'email', action: 'mask' },
          { database: 'erp', table: 'employee', column: 'Salary', action: 'drop' },
          { database: 'shop', table: 'customer', column: 'email', action: 'hash' },
        ],
      }),
      locations,
    );
    expect(policy.columnRule('erp', { schema: 'public', name: 'customer' }, 'email')?.action).toBe('mask');
    // The schema-less employee rule protects every schema's employee table on PostgreSQL.
    expect(policy.columnRule('erp', { schema: 'hr', name: 'employee' }, 'salary')?.action).toBe('drop');
    // Another alias of the same server database carries the same rules; another database does not.
    expect(policy.columnRule('erp2', { schema: 'public', name: 'customer' }, 'email')?.action).toBe('mask');
    expect(policy.hasColumnRules('erp2')).toBe(true);
    expect(policy.columnRule('other', { schema: 'public', name: 'customer' }, 'email')).toBeUndefined();
    // MySQL: the rule's table is shop.customer, reached from any alias of the server, in any case.
    expect(policy.columnRule('shop', { schema: 'shop', name: 'CUSTOMER' }, 'EMAIL')?.action).toBe('hash');
    expect(policy.columnRule('mart', { schema: 'shop', name: 'customer' }, 'email')?.action).toBe('hash');
    expect(policy.columnRule('mart', { schema: 'mart', name: 'customer' }, 'email')).toBeUndefined();
    expect(policy.hasColumnRules('mart')).toBe(true);
    expect(policy.tableRules('shop', { schema: 'shop', name: 'customer' })).toHaveLength(1);
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

describe("site policy APIs (the site's own APIs HTTP steps may call)", () => {
  const dir = mkdtempSync(join(tmpdir(), 'vsc-policy-apis-'));
  const write = (body: unknown) => {
    const path = join(dir, `p-${Math.random().toString(36).slice(2)}.json`);
    writeFileSync(path, JSON.stringify(body));
    return path;
  };

  it('defaults to no API; an API defaults to GET on its whole base', () => {
    expect(readSitePolicyFile(write({})).file.apis).toEqual({});
    const { file } = readSitePolicyFile(write({ apis: { erp: { baseUrl: 'http://10.0.0.5:8080/api/' } } }));
    expect(file.apis.erp).toMatchObject({ methods: ['GET'], paths: ['/'] });
  });

  it.each([
    [{ erp: { baseUrl: 'ftp://10.0.0.5/' } }, /http:\/\/ or https:\/\//],
    [{ erp: { baseUrl: 'http://user:pw@10.0.0.5/' } }, /user info/],
    [{ erp: { baseUrl: 'http://10.0.0.5/', paths: ['orders'] } }, /starting with \//],
    [{ erp: { baseUrl: 'http://10.0.0.5/', methods: ['DELETE'] } }, /methods/],
    [{ erp: { baseUrl: 'http://10.0.0.5/', credential: { kind: 'bearer', token: 'inline' } } }, /credential/],
    [{ erp: { baseUrl: 'http://10.0.0.5/', credential: { kind: 'header', name: 'Host', vault: 'x' } } }, /credential/],
  ])('refuses %j, naming the setting', (apis, message) => {
    expect(() => readSitePolicyFile(write({ apis }))).toThrow(SitePolicyError);
    expect(() => readSitePolicyFile(write({ apis }))).toThrow(message);
  });
});
