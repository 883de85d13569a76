import { operationBundleName } from '../../src/registry';

// The name of an operation's bundle artifact is derived from its key by one pure function the gateway
// (which attaches bundles) and every runner (which loads them) compute alike.
describe('operationBundleName', () => {
  it('keeps a plain operationId and hashes any other key into the registry’s name alphabet', () => {
    expect(operationBundleName('listActiveCustomers')).toBe('listActiveCustomers');
    const hashed = operationBundleName('GET /pets/{petId}');
    expect(hashed).toMatch(/^op\.[0-9a-f]{40}$/);
    expect(operationBundleName('GET /pets/{petId}')).toBe(hashed);
    for (const key of ['a.b', 'x'.repeat(101), 'ünïcode', '../../etc', 'GET /pets'])
      expect(operationBundleName(key)).toMatch(/^[A-Za-z0-9._-]{1,128}$/);
  });

  it('never gives two keys one name (a plain key has no dot, a hashed name always has one)', () => {
    const keys = ['op', 'op.0', 'GET /a', 'GET /b', 'getA', 'get_a', 'get-a', 'x'.repeat(100), 'x'.repeat(101)];
    expect(new Set(keys.map(operationBundleName)).size).toBe(keys.length);
  });
});
