import {
  createHash,
  createPrivateKey,
  createPublicKey,
  generateKeyPairSync,
  sign,
  verify,
  type KeyObject,
} from 'node:crypto';
import { mkdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { dirname } from 'node:path';
import { canonicalJson } from '@vansales/definitions/hash';
import { RegistryError, RegistryErrorCode } from './registry-error';

/**
 * What the factory signs for each artifact: the tenant, the kind, the content hash and the size.
 * Binding the tenant means a record copied into another tenant no longer verifies; binding the hash
 * means the signature vouches for the bytes (the blob is checked against the hash before use).
 */
export interface ArtifactStatement {
  tenantId: string;
  kind: 'spec' | 'manifest' | 'bundle';
  sha256: string;
  size: number;
}
const STATEMENT_FORMAT = 'vansales.artifact/v1';
const statementBytes = (s: ArtifactStatement) =>
  Buffer.from(
    canonicalJson({ format: STATEMENT_FORMAT, tenantId: s.tenantId, kind: s.kind, sha256: s.sha256, size: s.size }),
    'utf8',
  );

/** A key's id: the first 16 hex digits of the SHA-256 of its SPKI DER (what a signature record names). */
export function publicKeyId(key: KeyObject): string {
  return createHash('sha256')
    .update(key.export({ type: 'spki', format: 'der' }))
    .digest('hex')
    .slice(0, 16);
}

function ed25519Public(der: Buffer): KeyObject {
  const key = createPublicKey({ key: der, format: 'der', type: 'spki' });
  if (key.asymmetricKeyType !== 'ed25519') throw new Error(`a ${key.asymmetricKeyType ?? 'non-asymmetric'} key`);
  return key;
}

/** Parses VSC_REGISTRY_TRUSTED_KEYS: `<base64 of an Ed25519 public key's SPKI DER>[,…]`. */
export function parseTrustedKeys(spec: string): KeyObject[] {
  return spec
    .split(',')
    .map((p) => p.trim())
    .filter(Boolean)
    .map((part, i) => {
      if (!/^[A-Za-z0-9+/]+={0,2}$/.test(part)) throw new Error(`trusted key ${i + 1} is not base64`);
      try {
        return ed25519Public(Buffer.from(part, 'base64'));
      } catch (err) {
        throw new Error(
          `trusted key ${i + 1} is not an Ed25519 public key in SPKI DER (${(err as Error).message}): give the base64 of \`openssl pkey -pubout -outform DER\``,
        );
      }
    });
}

export interface ArtifactSigner {
  readonly keyId: string;
  readonly publicKey: KeyObject;
  sign(statement: ArtifactStatement): { keyId: string; signature: string };
}

export function artifactSigner(privateKey: KeyObject): ArtifactSigner {
  if (privateKey.asymmetricKeyType !== 'ed25519')
    throw new RegistryError(RegistryErrorCode.badKey, 'the registry signs with an Ed25519 key');
  const publicKey = createPublicKey(privateKey);
  const keyId = publicKeyId(publicKey);
  return {
    keyId,
    publicKey,
    sign: (statement) => ({ keyId, signature: sign(null, statementBytes(statement), privateKey).toString('base64') }),
  };
}

/**
 * The factory's signing key from its file, made on first start (Ed25519, PKCS#8 PEM, mode 0600 in a
 * 0700 folder). A key file others can read is refused, as the agent's vault key is: whoever reads it
 * can sign artifacts every site and worker would run.
 */
export function loadOrCreateSigningKey(path: string): ArtifactSigner {
  let pem: string;
  try {
    pem = readFileSync(path, 'utf8');
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'ENOENT') throw err;
    mkdirSync(dirname(path), { recursive: true, mode: 0o700 });
    const { privateKey } = generateKeyPairSync('ed25519');
    const fresh = privateKey.export({ type: 'pkcs8', format: 'pem' }) as string;
    try {
      // 'wx': a second process starting at the same moment keeps the key the first one wrote.
      writeFileSync(path, fresh, { flag: 'wx', mode: 0o600 });
      pem = fresh;
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code !== 'EEXIST') throw e;
      pem = readFileSync(path, 'utf8');
    }
  }
  if (process.platform !== 'win32') {
    const mode = statSync(path).mode & 0o777;
    if (mode & 0o077)
      throw new RegistryError(
        RegistryErrorCode.badKey,
        `the registry's signing key ${path} can be read by other users (mode ${mode.toString(8).padStart(4, '0')}); run: chmod 600 ${path}`,
      );
  }
  let key: KeyObject;
  try {
    key = createPrivateKey(pem);
  } catch {
    throw new RegistryError(
      RegistryErrorCode.badKey,
      `${path} is not a private key in PEM: remove it to have a new one made (artifacts it signed then need its public key in VSC_REGISTRY_TRUSTED_KEYS)`,
    );
  }
  if (key.asymmetricKeyType !== 'ed25519')
    throw new RegistryError(
      RegistryErrorCode.badKey,
      `${path} holds a ${key.asymmetricKeyType} key; the registry signs with Ed25519`,
    );
  return artifactSigner(key);
}

export interface ArtifactVerifier {
  /** Throws UNTRUSTED_KEY or BAD_SIGNATURE; returns when the signature holds. */
  verify(statement: ArtifactStatement, keyId: string, signature: string): void;
}

/** Verifies against the given public keys (the signer's own, and VSC_REGISTRY_TRUSTED_KEYS). */
export function artifactVerifier(keys: readonly KeyObject[]): ArtifactVerifier {
  const byId = new Map(keys.map((k) => [publicKeyId(k), k]));
  return {
    verify(statement, keyId, signature) {
      const key = byId.get(keyId);
      if (!key)
        throw new RegistryError(
          RegistryErrorCode.untrustedKey,
          `artifact ${statement.sha256} is signed by key ${keyId}, which this factory does not trust: add that key's public key to VSC_REGISTRY_TRUSTED_KEYS, or register the API again`,
          { sha256: statement.sha256, keyId },
        );
      const bytes = Buffer.from(signature, 'base64');
      if (bytes.length !== 64 || !verify(null, statementBytes(statement), key, bytes))
        throw new RegistryError(
          RegistryErrorCode.badSignature,
          `artifact ${statement.sha256} (${statement.kind}) has a signature that does not verify under key ${keyId}: its record was altered; register the API again`,
          { sha256: statement.sha256, keyId },
        );
    },
  };
}
