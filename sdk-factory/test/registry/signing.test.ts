import { generateKeyPairSync } from 'node:crypto';
import { chmodSync, mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import {
  artifactSigner,
  artifactVerifier,
  loadOrCreateSigningKey,
  loadRegistryConfig,
  mapToOperations,
  oasdiffBinaryPath,
  oasdiffRunner,
  RegistryErrorCode,
  type ArtifactStatement,
} from '../../src/registry';
import type { OperationManifest } from '../../src/manifest';

const statement: ArtifactStatement = { tenantId: 'alpha', kind: 'spec', sha256: 'a'.repeat(64), size: 10 };
const codeOf = (fn: () => unknown) => {
  try {
    fn();
  } catch (err) {
    return (err as { code?: string }).code;
  }
  return undefined;
};

describe('registry signing key', () => {
  let dir: string;
  beforeEach(() => {
    dir = mkdtempSync(join(tmpdir(), 'vsc-registry-key-'));
  });
  afterEach(() => rmSync(dir, { recursive: true, force: true }));

  it('is made on first start as a 0600 Ed25519 key, and the same key afterwards', () => {
    const path = join(dir, 'keys', 'registry.pem');
    const first = loadOrCreateSigningKey(path);
    expect(statSync(path).mode & 0o777).toBe(0o600);
    expect(statSync(join(dir, 'keys')).mode & 0o777).toBe(0o700);
    expect(readFileSync(path, 'utf8')).toMatch(/^-----BEGIN PRIVATE KEY-----/);
    const again = loadOrCreateSigningKey(path);
    expect(again.keyId).toBe(first.keyId);
    const { keyId, signature } = first.sign(statement);
    expect(() => artifactVerifier([again.publicKey]).verify(statement, keyId, signature)).not.toThrow();
  });

  it('is refused when others can read it, or when it is not an Ed25519 key', () => {
    const path = join(dir, 'registry.pem');
    loadOrCreateSigningKey(path);
    chmodSync(path, 0o644);
    expect(() => loadOrCreateSigningKey(path)).toThrow(/can be read by other users \(mode 0644\); run: chmod 600/);
    const rsa = join(dir, 'rsa.pem');
    const { privateKey } = generateKeyPairSync('rsa', { modulusLength: 1024 });
    writeFileSync(rsa, privateKey.export({ type: 'pkcs8', format: 'pem' }), { mode: 0o600 });
    expect(codeOf(() => loadOrCreateSigningKey(rsa))).toBe(RegistryErrorCode.badKey);
    const junk = join(dir, 'junk.pem');
    writeFileSync(junk, 'not a key', { mode: 0o600 });
    expect(() => loadOrCreateSigningKey(junk)).toThrow(/is not a private key in PEM/);
  });
});

describe('artifact signatures', () => {
  const signer = artifactSigner(generateKeyPairSync('ed25519').privateKey);
  const verifier = artifactVerifier([signer.publicKey]);

  it('verify the statement they were made over, and nothing else', () => {
    const { keyId, signature } = signer.sign(statement);
    expect(() => verifier.verify(statement, keyId, signature)).not.toThrow();
    for (const changed of [
      { ...statement, tenantId: 'beta' },
      { ...statement, kind: 'manifest' as const },
      { ...statement, sha256: 'b'.repeat(64) },
      { ...statement, size: 11 },
    ])
      expect(codeOf(() => verifier.verify(changed, keyId, signature))).toBe(RegistryErrorCode.badSignature);
    expect(codeOf(() => verifier.verify(statement, keyId, 'AAAA'))).toBe(RegistryErrorCode.badSignature);
  });

  it('from a key not trusted are refused as such', () => {
    const other = artifactSigner(generateKeyPairSync('ed25519').privateKey);
    const { keyId, signature } = other.sign(statement);
    expect(codeOf(() => verifier.verify(statement, keyId, signature))).toBe(RegistryErrorCode.untrustedKey);
  });
});

describe('registry config', () => {
  it('parses trusted keys and names a bad one without printing it', () => {
    const spki = generateKeyPairSync('ed25519').publicKey.export({ type: 'spki', format: 'der' }).toString('base64');
    expect(loadRegistryConfig({ VSC_REGISTRY_TRUSTED_KEYS: spki }).VSC_REGISTRY_TRUSTED_KEYS).toBe(spki);
    const rsa = generateKeyPairSync('rsa', { modulusLength: 1024 })
      .publicKey.export({ type: 'spki', format: 'der' })
      .toString('base64');
    expect(() => loadRegistryConfig({ VSC_REGISTRY_TRUSTED_KEYS: `${spki},${rsa}` })).toThrow(
      /VSC_REGISTRY_TRUSTED_KEYS: trusted key 2 is not an Ed25519 public key/,
    );
    expect(() => loadRegistryConfig({ VSC_REGISTRY_TRUSTED_KEYS: `${spki},${rsa}` })).not.toThrow(
      new RegExp(rsa.slice(0, 40)),
    );
  });

  it('finds oasdiff in the machine cache unless VSC_OASDIFF_BIN says otherwise', () => {
    expect(oasdiffBinaryPath({}, { VSC_BIN_CACHE: '/cache/bin' })).toBe('/cache/bin/oasdiff-v1.39.0');
    expect(oasdiffBinaryPath({ VSC_OASDIFF_BIN: '/opt/oasdiff' }, {})).toBe('/opt/oasdiff');
  });
});

describe('oasdiff runner', () => {
  it('says how to get oasdiff when the binary is missing', async () => {
    const err = await oasdiffRunner('/nonexistent/oasdiff-v1.39.0')
      .breaking({}, {})
      .catch((e: unknown) => e);
    expect(err).toMatchObject({
      code: RegistryErrorCode.oasdiffUnavailable,
      message: expect.stringMatching(/VSC_OASDIFF_BIN/),
    });
  });

  it('refuses a binary that is not the pinned release', async () => {
    // `echo --version` prints "--version": not oasdiff 1.39.0.
    const err = await oasdiffRunner('/bin/echo')
      .breaking({}, {})
      .catch((e: unknown) => e);
    expect(err).toMatchObject({
      code: RegistryErrorCode.oasdiffUnavailable,
      message: expect.stringMatching(/is not oasdiff v1.39.0/),
    });
  });
});

describe('mapping oasdiff changes to operations', () => {
  const op = (key: string, method: 'get' | 'delete', path: string) =>
    ({
      key,
      method,
      path,
      tags: [],
      deprecated: false,
      parameters: [],
      responses: [],
      security: [],
    }) as OperationManifest['operations'][number];
  const manifest = (operations: OperationManifest['operations']) => ({ operations }) as OperationManifest;

  it('keys each change by the base version (where a removed operation still is), then the revision', () => {
    const base = manifest([op('listPets', 'get', '/pets'), op('DELETE /pets/{id}', 'delete', '/pets/{id}')]);
    const revision = manifest([op('listAllPets', 'get', '/pets')]);
    expect(
      mapToOperations(
        [
          {
            id: 'api-removed-without-deprecation',
            text: 'API removed',
            level: 3,
            operation: 'DELETE',
            path: '/pets/{id}',
          },
          { id: 'request-parameter-became-required', text: 'limit', level: 3, operation: 'GET', path: '/pets' },
          { id: 'response-optional-property-removed', text: 'tag', level: 2, operation: 'GET', path: '/pets' },
          { id: 'api-security-removed', text: 'security', level: 1 },
        ],
        base,
        revision,
      ),
    ).toEqual([
      {
        id: 'api-removed-without-deprecation',
        text: 'API removed',
        level: 'error',
        method: 'delete',
        path: '/pets/{id}',
        operationKey: 'DELETE /pets/{id}',
      },
      {
        id: 'request-parameter-became-required',
        text: 'limit',
        level: 'error',
        method: 'get',
        path: '/pets',
        operationKey: 'listPets',
      },
      {
        id: 'response-optional-property-removed',
        text: 'tag',
        level: 'warning',
        method: 'get',
        path: '/pets',
        operationKey: 'listPets',
      },
      { id: 'api-security-removed', text: 'security', level: 'info' },
    ]);
  });
});
