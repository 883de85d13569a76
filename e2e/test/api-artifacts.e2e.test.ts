import { generateKeyPairSync, createHash } from 'node:crypto';
import { mkdtempSync, readFileSync, readdirSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import {
  createApiArtifactClient,
  createGatewayAuth,
  type ApiArtifactClientOptions,
  type ApiArtifactKind,
} from '@vansales/connector-agent';
import { services, startPlatform, type Platform } from './support/harness';

/**
 * The agent fetches SDK artifacts by content hash (issue 11 item 3): a real gateway serves its
 * tenant's artifacts to an agent proven by its key pair, and the agent's client uses only what
 * verifies under the registry keys it trusts: signature, hash and size, from the gateway and from
 * its own disk cache.
 */
describe('SDK artifacts to the agent by hash (real gateway)', () => {
  let platform: Platform;
  const tenantA = 'artifacts-a';
  const tenantB = 'artifacts-b';
  let keyA: string;
  let keyB: string;
  let specHash: string;
  let manifestHash: string;
  const dirs: string[] = [];

  const cacheDir = () => {
    const dir = mkdtempSync(join(tmpdir(), 'vsc-agent-artifacts-'));
    dirs.push(dir);
    return join(dir, 'cache');
  };
  const authFor = (apiKey: string, machine = 'site-a') =>
    createGatewayAuth({ gatewayUrl: platform.gatewayWsUrl, apiKey, identityKey: platform.machineKey(machine) });
  const client = (over: Partial<ApiArtifactClientOptions> = {}) =>
    createApiArtifactClient({ auth: authFor(keyA), cacheDir: cacheDir(), ...over });
  const failure = async (p: Promise<unknown>) =>
    (await p.then(
      () => undefined,
      (e: unknown) => e,
    )) as { code?: string; message: string } | undefined;
  const storedBlob = (sha256: string) => {
    // The gateway's folder store keeps artifacts under artifacts/<tenant>/<2 hex>/<sha256>.
    const found: string[] = [];
    const walk = (dir: string) => {
      for (const e of readdirSync(dir, { withFileTypes: true }))
        if (e.isDirectory()) walk(join(dir, e.name));
        else if (e.name === sha256 && dir.includes(tenantA)) found.push(join(dir, e.name));
    };
    walk(platform.bufferDir);
    expect(found).toHaveLength(1);
    return found[0]!;
  };

  beforeAll(async () => {
    platform = await startPlatform();
    for (const id of [tenantA, tenantB])
      expect((await platform.api('POST', '/v1/tenants', { id, name: id })).status).toBe(201);
    const connector = async (tenant: string) => {
      const res = await platform.api<{ apiKey: string }>('POST', `/v1/tenants/${tenant}/connectors`, { name: 'site' });
      expect(res.status).toBe(201);
      return res.body.apiKey;
    };
    keyA = await connector(tenantA);
    keyB = await connector(tenantB);
    const text = readFileSync(join(services.sharedData!, 'openapi', 'v3.0-petstore-expanded.yaml'), 'utf8');
    const registered = await platform.api('POST', `/v1/tenants/${tenantA}/apis/petstore/versions`, { spec: { text } });
    expect(registered.status).toBe(200);
    const versions = await platform.api<{ specHash: string; manifestHash: string }[]>(
      'GET',
      `/v1/tenants/${tenantA}/apis/petstore/versions`,
    );
    [{ specHash, manifestHash }] = versions.body as [{ specHash: string; manifestHash: string }];
  });
  afterAll(async () => {
    await platform?.close();
    for (const d of dirs) rmSync(d, { recursive: true, force: true });
  });

  it('fetches the spec and the manifest verified, pins the registry key on first use, caches 0600', async () => {
    const dir = cacheDir();
    const c = client({ cacheDir: dir });
    const spec = await c.fetch(specHash, 'spec');
    expect(createHash('sha256').update(spec).digest('hex')).toBe(specHash);
    expect((JSON.parse(spec.toString('utf8')) as { openapi: string }).openapi).toMatch(/^3\./);
    const manifest = await c.fetch(manifestHash, 'manifest');
    expect((JSON.parse(manifest.toString('utf8')) as { operations: unknown[] }).operations).toHaveLength(4);

    const pin = JSON.parse(readFileSync(join(dir, 'registry-keys.json'), 'utf8')) as {
      tenantId: string;
      keys: { keyId: string }[];
    };
    expect(pin.tenantId).toBe(tenantA);
    expect(pin.keys).toHaveLength(1);
    const cached = join(dir, 'artifacts', specHash.slice(0, 2), specHash);
    expect(readFileSync(cached)).toEqual(spec);
    for (const file of [cached, `${cached}.json`, join(dir, 'registry-keys.json')])
      expect(statSync(file).mode & 0o777).toBe(0o600);
    expect(statSync(dir).mode & 0o777).toBe(0o700);
  });

  it('answers a second fetch from its cache without the gateway', async () => {
    const dir = cacheDir();
    expect((await client({ cacheDir: dir }).fetch(specHash, 'spec')).length).toBeGreaterThan(0);
    let asked = 0;
    const offline = createApiArtifactClient({
      cacheDir: dir,
      auth: {
        origin: 'http://127.0.0.1:9',
        ca: undefined,
        proven: async () => {
          asked += 1;
          throw new Error('the gateway is unreachable');
        },
      },
    });
    const bytes = await offline.fetch(specHash, 'spec');
    expect(createHash('sha256').update(bytes).digest('hex')).toBe(specHash);
    expect(asked).toBe(0);
  });

  it('refuses a changed cache file, removes it, and fetches it again next time', async () => {
    const dir = cacheDir();
    const c = client({ cacheDir: dir });
    const original = await c.fetch(specHash, 'spec');
    const cached = join(dir, 'artifacts', specHash.slice(0, 2), specHash);
    writeFileSync(cached, Buffer.from(original.toString('utf8').replace('Swagger', 'Sw4gger')));
    const err = await failure(createApiArtifactClient({ auth: authFor(keyA), cacheDir: dir }).fetch(specHash, 'spec'));
    expect(err).toMatchObject({ code: 'TAMPERED', message: expect.stringMatching(/changed on this machine/) });
    expect(() => statSync(cached)).toThrow();
    expect(await createApiArtifactClient({ auth: authFor(keyA), cacheDir: dir }).fetch(specHash, 'spec')).toEqual(
      original,
    );
  });

  it('refuses bytes changed in the store (same size and different size)', async () => {
    const blob = storedBlob(specHash);
    const original = readFileSync(blob);
    try {
      writeFileSync(blob, Buffer.from(original.toString('utf8').replace('Swagger', 'Sw4gger')));
      expect(await failure(client().fetch(specHash, 'spec'))).toMatchObject({
        code: 'TAMPERED',
        message: expect.stringMatching(/hash to/),
      });
      writeFileSync(blob, Buffer.concat([original, Buffer.from(' ')]));
      expect(await failure(client().fetch(specHash, 'spec'))).toMatchObject({ code: 'TAMPERED' });
    } finally {
      writeFileSync(blob, original);
    }
    // Nothing refused was cached: a fresh fetch after the repair works.
    expect((await client().fetch(specHash, 'spec')).equals(original)).toBe(true);
  });

  it('refuses a record whose signature was changed in the metadata store', async () => {
    const db = platform.gateway.db;
    const rows = await db
      .selectFrom('api_artifacts')
      .select(['sha256', 'signature'])
      .where('tenant_id', '=', tenantA)
      .execute();
    const spec = rows.find((r) => r.sha256 === specHash)!;
    const other = rows.find((r) => r.sha256 === manifestHash)!;
    // A real signature, of another artifact: well-formed, by the trusted key, over another statement.
    await db
      .updateTable('api_artifacts')
      .set({ signature: other.signature })
      .where('tenant_id', '=', tenantA)
      .where('sha256', '=', specHash)
      .execute();
    try {
      expect(await failure(client().fetch(specHash, 'spec'))).toMatchObject({ code: 'BAD_SIGNATURE' });
    } finally {
      await db
        .updateTable('api_artifacts')
        .set({ signature: spec.signature })
        .where('tenant_id', '=', tenantA)
        .where('sha256', '=', specHash)
        .execute();
    }
  });

  it('refuses artifacts signed by a key it does not trust: configured keys, and a pinned key the gateway no longer has', async () => {
    const stranger = generateKeyPairSync('ed25519')
      .publicKey.export({ type: 'spki', format: 'der' })
      .toString('base64');
    expect(await failure(client({ trustedKeys: [stranger] }).fetch(specHash, 'spec'))).toMatchObject({
      code: 'UNTRUSTED_KEY',
      message: expect.stringMatching(/does not trust/),
    });

    // A pin made earlier with another key (the gateway's key changed since): refused, and the pin stays.
    const dir = cacheDir();
    await client({ cacheDir: dir }).fetch(manifestHash, 'manifest');
    const pinPath = join(dir, 'registry-keys.json');
    const strangerId = createHash('sha256').update(Buffer.from(stranger, 'base64')).digest('hex').slice(0, 16);
    const pinned = { ...JSON.parse(readFileSync(pinPath, 'utf8')), keys: [{ keyId: strangerId, publicKey: stranger }] };
    writeFileSync(pinPath, JSON.stringify(pinned));
    expect(await failure(client({ cacheDir: dir }).fetch(specHash, 'spec'))).toMatchObject({ code: 'UNTRUSTED_KEY' });
    // ... and the manifest cached under the old pin is refused too (verified again on read).
    expect(await failure(client({ cacheDir: dir }).fetch(manifestHash, 'manifest'))).toMatchObject({
      code: 'UNTRUSTED_KEY',
    });
    expect(JSON.parse(readFileSync(pinPath, 'utf8'))).toEqual(pinned);
  });

  it("answers 404 for another tenant's hash, and refuses a hash asked for as another kind", async () => {
    const other = createApiArtifactClient({ auth: authFor(keyB, 'site-b'), cacheDir: cacheDir() });
    expect(await failure(other.fetch(specHash, 'spec'))).toMatchObject({ code: 'NOT_FOUND' });
    for (const kind of ['manifest', 'bundle:listPets'] as ApiArtifactKind[])
      expect(await failure(client().fetch(specHash, kind))).toMatchObject({ code: 'WRONG_KIND' });
    expect(await failure(client().fetch('not-a-hash', 'spec'))).toMatchObject({ code: 'BAD_INPUT' });
  });

  it('refuses a caller without a proof of the key pair', async () => {
    const gatewayUrl = platform.gatewayWsUrl.replace('ws', 'http').replace(/\/v1\/agent\/connect$/, '');
    const bare = await fetch(`${gatewayUrl}/v1/agent/api-artifacts/${specHash}`, {
      headers: { authorization: `Bearer ${keyA}` },
    });
    expect(bare.status).toBe(401);
    const admin = await fetch(`${gatewayUrl}/v1/agent/api-artifacts/${specHash}`, {
      headers: { authorization: `Bearer ${platform.adminToken}` },
    });
    expect([401, 403]).toContain(admin.status);
  });
});
