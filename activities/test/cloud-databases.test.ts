import { cloudDatabasesFrom } from '../src/cloud/cloud-databases';

describe('cloud databases: a tenant names only its own', () => {
  const lake = {
    dialect: 'postgres',
    host: '127.0.0.1',
    port: 5432,
    user: 'u',
    password: 'p',
    database: 'lake',
  } as const;
  const databases = cloudDatabasesFrom({ acme: { lake }, globex: { lake: { ...lake, database: 'globex_lake' } } });

  it("finds a tenant's own database, and not another tenant's", () => {
    expect(databases.lookup('acme', 'lake')).toMatchObject({ database: 'lake' });
    expect(databases.lookup('globex', 'lake')).toMatchObject({ database: 'globex_lake' });
    expect(databases.lookup('initech', 'lake')).toBeUndefined();
  });

  it('finds nothing under names every JavaScript object answers to', () => {
    for (const [tenant, name] of [
      ['acme', 'constructor'],
      ['acme', 'toString'],
      ['acme', '__proto__'],
      ['acme', 'hasOwnProperty'],
      ['__proto__', 'toString'],
      ['constructor', 'name'],
    ] as const)
      expect({ tenant, name, found: databases.lookup(tenant, name) }).toEqual({ tenant, name, found: undefined });
  });
});
