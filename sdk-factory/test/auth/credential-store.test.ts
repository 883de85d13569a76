import { chmodSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { sql } from 'kysely';
import { newBufferKeySpec, parseBufferKeys } from '@vansales/buffer';
import {
  AuthError,
  AuthErrorCode,
  createLocalKeyWrapper,
  createMetadataCredentialStore,
  localKeyWrapper,
  AuthSettings,
} from '@vansales/sdk-factory/auth';
import { credentialStoreFixture } from './support/store';

const SECRET = 'sk_live_7f3a9c2e-never-print-me';

async function rejectsWith(p: Promise<unknown>, code: string): Promise<AuthError> {
  const err = await p.then(
    () => undefined,
    (e: unknown) => e,
  );
  expect(err).toBeInstanceOf(AuthError);
  expect((err as AuthError).code).toBe(code);
  expect((err as AuthError).message).not.toContain(SECRET);
  return err as AuthError;
}

describe('the metadata credential store (envelope encryption, PGlite)', () => {
  let f: Awaited<ReturnType<typeof credentialStoreFixture>>;
  // One embedded store for the file (opening PGlite costs seconds); each test uses names of its own.
  beforeAll(async () => {
    f = await credentialStoreFixture(['acme', 'globex']);
  });
  afterAll(async () => {
    await f.db.destroy();
  });

  it('stores a secret sealed: the row holds neither the secret nor the data key in clear', async () => {
    expect(await f.store.put('acme', 'billing.apiKey', { kind: 'apiKey', value: SECRET })).toBe(1);
    expect(await f.store.get('acme', 'billing.apiKey')).toEqual({ kind: 'apiKey', value: SECRET });
    const rows = await f.db.selectFrom('credentials').selectAll().where('name', '=', 'billing.apiKey').execute();
    expect(rows).toHaveLength(1);
    expect(Buffer.from(rows[0]!.sealed).includes(Buffer.from(SECRET))).toBe(false);
    expect(JSON.stringify(rows)).not.toContain(SECRET);
    expect(rows[0]).toMatchObject({ tenant_id: 'acme', name: 'billing.apiKey', kind: 'apiKey', key_id: 'k1' });
  });

  it('gives each put a new data key and version, and lists names and kinds only', async () => {
    await f.store.put('acme', 'crm.basic', { kind: 'basic', username: 'u', password: SECRET });
    const row = () =>
      f.db.selectFrom('credentials').select(['wrapped_key']).where('name', '=', 'crm.basic').executeTakeFirstOrThrow();
    const first = await row();
    expect(await f.store.put('acme', 'crm.basic', { kind: 'basic', username: 'u', password: `${SECRET}-2` })).toBe(2);
    const second = await row();
    expect(Buffer.from(second.wrapped_key).equals(Buffer.from(first.wrapped_key))).toBe(false);
    const listed = await f.store.list('acme', 'crm.');
    expect(listed).toEqual([expect.objectContaining({ name: 'crm.basic', kind: 'basic', version: 2 })]);
    expect(JSON.stringify(listed)).not.toContain(SECRET);
  });

  it('keeps tenants apart: B reaches none of A’s secrets by the same name, and has its own', async () => {
    await f.store.put('acme', 'shared-name', { kind: 'bearer', token: SECRET });
    expect(await f.store.get('globex', 'shared-name')).toBeUndefined();
    expect(await f.store.take('globex', 'shared-name')).toBeUndefined();
    expect(await f.store.delete('globex', 'shared-name')).toBe(false);
    expect(await f.store.list('globex', 'shared-name')).toEqual([]);
    await f.store.put('globex', 'shared-name', { kind: 'bearer', token: 'globex-own' });
    expect(await f.store.get('acme', 'shared-name')).toEqual({ kind: 'bearer', token: SECRET });
    expect(await f.store.get('globex', 'shared-name')).toEqual({ kind: 'bearer', token: 'globex-own' });
  });

  it('refuses to open a row copied to another tenant, or renamed, or changed', async () => {
    await f.store.put('acme', 'erp.token', { kind: 'bearer', token: SECRET });
    // What someone with write access to the table could do: copy acme's row under globex.
    await sql`INSERT INTO credentials (tenant_id, name, kind, key_id, wrapped_key, sealed)
              SELECT 'globex', name, kind, key_id, wrapped_key, sealed FROM credentials
              WHERE tenant_id = 'acme' AND name = 'erp.token'`.execute(f.db);
    await rejectsWith(f.store.get('globex', 'erp.token'), AuthErrorCode.undecryptable);
    await sql`INSERT INTO credentials (tenant_id, name, kind, key_id, wrapped_key, sealed)
              SELECT tenant_id, 'erp.other', kind, key_id, wrapped_key, sealed FROM credentials
              WHERE tenant_id = 'acme' AND name = 'erp.token'`.execute(f.db);
    await rejectsWith(f.store.get('acme', 'erp.other'), AuthErrorCode.undecryptable);
    // The data key wrapped for one name, with the sealed secret of another name of the same tenant.
    await f.store.put('acme', 'erp.second', { kind: 'bearer', token: 'second' });
    await sql`UPDATE credentials SET sealed = (SELECT sealed FROM credentials WHERE tenant_id = 'acme' AND name = 'erp.token')
              WHERE tenant_id = 'acme' AND name = 'erp.second'`.execute(f.db);
    await rejectsWith(f.store.get('acme', 'erp.second'), AuthErrorCode.undecryptable);
    await sql`UPDATE credentials SET sealed = set_byte(sealed, 20, get_byte(sealed, 20) # 1)
              WHERE tenant_id = 'acme' AND name = 'erp.token'`.execute(f.db);
    await rejectsWith(f.store.get('acme', 'erp.token'), AuthErrorCode.undecryptable);
  });

  it('refuses a bad value or name without echoing the value', async () => {
    await rejectsWith(
      f.store.put('acme', 'x', { kind: 'bearer', token: `${SECRET}\r\nX-Injected: 1` }),
      AuthErrorCode.badInput,
    );
    await rejectsWith(f.store.put('acme', '../etc', { kind: 'bearer', token: SECRET }), AuthErrorCode.badInput);
    expect(await f.store.get('acme', 'x')).toBeUndefined();
  });

  it('reads an expired secret as absent, and takes a one-time secret once', async () => {
    await f.store.put(
      'acme',
      'soon-gone',
      { kind: 'bearer', token: SECRET },
      { expiresAt: new Date(Date.now() - 1000) },
    );
    expect(await f.store.get('acme', 'soon-gone')).toBeUndefined();
    await f.store.put('acme', 'once', { kind: 'bearer', token: SECRET });
    expect(await f.store.take('acme', 'once')).toEqual({ kind: 'bearer', token: SECRET });
    expect(await f.store.take('acme', 'once')).toBeUndefined();
  });

  it('records a failure for the owner and clears it with a new value', async () => {
    await f.store.put('acme', 'api.oauth', { kind: 'oauth2-client', clientId: 'c', clientSecret: SECRET });
    await f.store.recordFailure('acme', 'api.oauth', 'refresh refused: invalid_grant');
    expect((await f.store.list('acme', 'api.oauth'))[0]?.failure?.message).toBe('refresh refused: invalid_grant');
    await f.store.put('acme', 'api.oauth', { kind: 'oauth2-client', clientId: 'c', clientSecret: SECRET });
    expect((await f.store.list('acme', 'api.oauth'))[0]).toMatchObject({ name: 'api.oauth', version: 2 });
    expect((await f.store.list('acme', 'api.oauth'))[0]?.failure).toBeUndefined();
  });

  it('rotates the master key: rows are rewrapped, and then open without the old key', async () => {
    await f.db.deleteFrom('credentials').execute();
    await f.store.put('acme', 'a', { kind: 'bearer', token: SECRET });
    await f.store.put('globex', 'b', { kind: 'bearer', token: 'b-secret' });
    const k2 = newBufferKeySpec('k2');
    const both = createMetadataCredentialStore({
      repository: f.repository,
      wrapper: createLocalKeyWrapper(parseBufferKeys(`${k2},${f.keySpec}`)),
    });
    expect(await both.get('acme', 'a')).toEqual({ kind: 'bearer', token: SECRET });
    expect(await both.rotateMasterKey()).toBe(2);
    expect(await both.rotateMasterKey()).toBe(0);
    const onlyNew = createMetadataCredentialStore({
      repository: f.repository,
      wrapper: createLocalKeyWrapper(parseBufferKeys(k2)),
    });
    expect(await onlyNew.get('globex', 'b')).toEqual({ kind: 'bearer', token: 'b-secret' });
    const err = await rejectsWith(f.store.get('acme', 'a'), AuthErrorCode.undecryptable);
    expect(err.message).toContain('master key k2');
  });
});

describe('the local key wrapper’s settings', () => {
  const dir = mkdtempSync(join(tmpdir(), 'vsc-credential-keys-'));
  const spec = newBufferKeySpec('main');

  it('reads the master keys from a 0600 file and refuses one others can read', () => {
    const file = join(dir, 'keys');
    writeFileSync(file, `${spec}\n`, { mode: 0o600 });
    expect(localKeyWrapper(AuthSettings.parse({ VSC_CREDENTIALS_KEYS_FILE: file })).currentKeyId).toBe('main');
    chmodSync(file, 0o644);
    expect(() => localKeyWrapper({ VSC_CREDENTIALS_KEYS_FILE: file })).toThrow(/chmod 600/);
  });

  it('names the setting and never the key material when a key is wrong', () => {
    const bad = AuthSettings.safeParse({ VSC_CREDENTIALS_KEYS: 'main:c2hvcnQ=' });
    expect(bad.success).toBe(false);
    expect(JSON.stringify(bad.error?.issues)).toMatch(/VSC_CREDENTIALS_KEYS|32 bytes/);
    expect(JSON.stringify(bad.error?.issues)).not.toContain('c2hvcnQ=');
    expect(() => localKeyWrapper({})).toThrow(/VSC_CREDENTIALS_KEYS/);
    expect(() => localKeyWrapper({ VSC_CREDENTIALS_KEYS: spec, VSC_CREDENTIALS_KEYS_FILE: 'x' })).toThrow(/not both/);
    expect(AuthSettings.parse({}).VSC_OAUTH_REFRESH_SKEW_SECONDS).toBe(60);
  });
});
