import { createHash, randomBytes, type KeyObject } from 'node:crypto';
import { readFileSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { request as httpRequest, type IncomingHttpHeaders } from 'node:http';
import { request as httpsRequest } from 'node:https';
import { join } from 'node:path';
import { z } from 'zod';
import {
  API_ARTIFACT_SHA256_PATTERN,
  ApiArtifactRecordHeaders,
  ApiArtifactRecordKind,
  apiArtifactPath,
  ensurePrivateDir,
  REGISTRY_KEYS_PATH,
  RegistryPublicKeys,
} from '@vansales/protocol';
import {
  artifactVerifier,
  isRegistryError,
  parseTrustedKeys,
  publicKeyId,
  RegistryErrorCode,
} from '@vansales/sdk-factory/signing';
import { GatewayAuthError, type GatewayAuth } from '../gateway-auth';
import { ApiArtifactError, ApiArtifactErrorCode } from './api-artifact-error';
import { honouringRetryAfter } from '../net/retry-after';

/** What a step asks for: the spec, the manifest, or one operation's bundle (`bundle:<name>`). */
export type ApiArtifactKind = 'spec' | 'manifest' | `bundle:${string}`;

export interface ApiArtifactClientOptions {
  /** The agent's proof of its key pair (createGatewayAuth): the artifact routes authenticate like its WebSocket. */
  auth: Pick<GatewayAuth, 'proven' | 'origin' | 'ca'> & Partial<Pick<GatewayAuth, 'network'>>;
  /** Where verified artifacts are cached by hash, and the registry keys pinned (a 0700 folder, made when missing). */
  cacheDir: string;
  /**
   * Registry public keys to trust (base64 of the Ed25519 SPKI DER, as VSC_REGISTRY_TRUSTED_KEYS).
   * Unset: the gateway's keys are learned the first time they are needed and pinned in `cacheDir`;
   * an artifact signed by any other key is refused afterwards, whatever the gateway says.
   */
  trustedKeys?: readonly string[];
  /** Largest artifact accepted (default 64 MiB: a 13 MB specification's manifest fits). */
  maxBytes?: number;
  /** How long one request to the gateway may take (default 60 s). */
  timeoutMs?: number;
}

export interface ApiArtifactClient {
  /**
   * The artifact's bytes, verified: the registry's Ed25519 signature over (tenant, kind, hash, size)
   * under a trusted key, and the bytes against that hash and size. From the disk cache when there
   * (verified again), else from the gateway (then cached).
   */
  fetch(sha256: string, kind: ApiArtifactKind): Promise<Buffer>;
  /**
   * The registry keys this agent trusts, learned from the gateway and pinned now when neither
   * configured nor pinned yet (`init` calls it right after enrolment); their key ids.
   */
  pinRegistryKeys(): Promise<string[]>;
}

const PIN_FILE = 'registry-keys.json';
const PIN_FORMAT = 'vansales.registry-pin/v1';
const RegistryPin = z.object({
  format: z.literal(PIN_FORMAT),
  /** The tenant the gateway answered for when the keys were pinned: an agent's key never changes tenant. */
  tenantId: z.string().min(1),
  keys: RegistryPublicKeys.shape.keys,
  pinnedAt: z.string(),
});
type RegistryPin = z.infer<typeof RegistryPin>;

/** The cached record beside the cached bytes: what the signature covers, verified again on every read. */
const CachedRecord = z.object({
  tenantId: z.string().min(1),
  kind: ApiArtifactRecordKind,
  size: z.number().int().min(0),
  keyId: z.string(),
  signature: z.string(),
});
type CachedRecord = z.infer<typeof CachedRecord>;

const recordKindOf = (kind: ApiArtifactKind): ApiArtifactRecordKind =>
  kind.startsWith('bundle:') ? 'bundle' : (kind as ApiArtifactRecordKind);
const sha256Hex = (bytes: Buffer) => createHash('sha256').update(bytes).digest('hex');

interface GatewayAnswer {
  status: number;
  headers: IncomingHttpHeaders;
  body: Buffer;
  /** The tenant the gateway resolved the agent's key to (from the challenge the proof signed). */
  tenantId: string;
}

interface Trust {
  /** Set when pinned: the gateway must keep answering for this tenant. */
  tenantId?: string;
  keys: KeyObject[];
}

/**
 * The agent's side of the SDK factory's registry (issue 11 item 3): fetches an artifact of its own
 * tenant by content hash and uses it only once verified. Nothing between the factory's signing key
 * and the site is trusted: not the store, not the metadata database, not the gateway (which serves
 * record and bytes as stored), not the local disk (the cache is verified again on every read).
 */
export function createApiArtifactClient(options: ApiArtifactClientOptions): ApiArtifactClient {
  const maxBytes = options.maxBytes ?? 64 * 1024 * 1024;
  const timeoutMs = options.timeoutMs ?? 60_000;
  const objectsDir = join(options.cacheDir, 'artifacts');
  const pinPath = join(options.cacheDir, PIN_FILE);
  ensurePrivateDir(options.cacheDir, 'the agent’s artifact cache');
  ensurePrivateDir(objectsDir, 'the agent’s artifact cache');

  const configured = options.trustedKeys?.length ? trustFromConfig(options.trustedKeys) : undefined;
  let trust: Promise<Trust> | undefined;
  const inFlight = new Map<string, Promise<{ record: CachedRecord; bytes: Buffer }>>();

  /** A GET, sent again (with a fresh proof) after the wait a 429/503's Retry-After asks, up to a minute. */
  const get = (path: string): Promise<GatewayAnswer> => honouringRetryAfter(() => getOnce(path));

  /** Sends one GET with a fresh proof of the agent's key pair. */
  async function getOnce(path: string): Promise<GatewayAnswer> {
    let proven: Awaited<ReturnType<GatewayAuth['proven']>>;
    try {
      proven = await options.auth.proven();
    } catch (err) {
      throw new ApiArtifactError(
        ApiArtifactErrorCode.gateway,
        err instanceof GatewayAuthError
          ? `the gateway refused the agent's key (${err.status}: ${err.message})`
          : `cannot reach the gateway for an artifact: ${(err as Error).message}`,
      );
    }
    const url = new URL(path, options.auth.origin);
    const answer = await new Promise<{ status: number; headers: IncomingHttpHeaders; body: Buffer }>(
      (resolve, reject) => {
        const req = (url.protocol === 'https:' ? httpsRequest : httpRequest)(
          url,
          {
            method: 'GET',
            headers: proven.headers,
            ...(url.protocol === 'https:' && options.auth.ca ? { ca: options.auth.ca } : {}),
            // Through the agent's proxy, as its WebSocket.
            ...(options.auth.network?.agent ? { agent: options.auth.network.agent } : {}),
            timeout: timeoutMs,
          },
          (res) => {
            const proxy = options.auth.network?.proxyRefusal(req);
            if (proxy) {
              res.resume();
              return reject(new ApiArtifactError(ApiArtifactErrorCode.gateway, proxy.message));
            }
            const declared = Number(res.headers['content-length'] ?? 0);
            if (declared > maxBytes) {
              res.destroy();
              return reject(tooLarge(declared));
            }
            const parts: Buffer[] = [];
            let length = 0;
            res.on('data', (d: Buffer) => {
              length += d.length;
              if (length > maxBytes) {
                res.destroy();
                reject(tooLarge(length));
              } else parts.push(d);
            });
            res.on('end', () =>
              resolve({ status: res.statusCode ?? 0, headers: res.headers, body: Buffer.concat(parts) }),
            );
            res.on('error', reject);
          },
        );
        req.on('timeout', () => req.destroy(new Error(`the gateway did not answer in ${timeoutMs} ms`)));
        req.on('error', (err) =>
          reject(
            err instanceof ApiArtifactError
              ? err
              : new ApiArtifactError(ApiArtifactErrorCode.gateway, `cannot fetch ${path}: ${err.message}`),
          ),
        );
        req.end();
      },
    );
    return { ...answer, tenantId: proven.tenantId };
  }

  const tooLarge = (bytes: number) =>
    new ApiArtifactError(
      ApiArtifactErrorCode.tooLarge,
      `the artifact is ${bytes} bytes or more; this agent accepts at most ${maxBytes}`,
    );

  const gatewayRefusal = (status: number, body: Buffer, what: string) => {
    let message: string | undefined;
    try {
      message = (JSON.parse(body.toString('utf8')) as { error?: { message?: string } }).error?.message;
    } catch {
      message = undefined;
    }
    return new ApiArtifactError(
      status === 404 ? ApiArtifactErrorCode.notFound : ApiArtifactErrorCode.gateway,
      `${what}: the gateway answered ${status}${message ? ` (${message})` : ''}`,
      { status },
    );
  };

  /** The configured keys, else the pinned ones, else the gateway's, pinned now (once, the first writer wins). */
  function loadTrust(): Promise<Trust> {
    if (configured) return Promise.resolve(configured);
    trust ??= (async () => {
      const pinned = readPin();
      if (pinned) return pinned;
      const answer = await get(REGISTRY_KEYS_PATH);
      if (answer.status !== 200) throw gatewayRefusal(answer.status, answer.body, 'the registry keys');
      let keys: RegistryPin['keys'];
      try {
        keys = RegistryPublicKeys.parse(JSON.parse(answer.body.toString('utf8'))).keys;
      } catch {
        throw new ApiArtifactError(
          ApiArtifactErrorCode.gateway,
          'the gateway answered the registry keys with something else',
        );
      }
      const pin: RegistryPin = {
        format: PIN_FORMAT,
        tenantId: answer.tenantId,
        keys,
        pinnedAt: new Date().toISOString(),
      };
      const parsed = trustFromPin(pin);
      try {
        writeFileSync(pinPath, `${JSON.stringify(pin, null, 2)}\n`, { flag: 'wx', mode: 0o600 });
      } catch (err) {
        // Another process of this agent pinned first: its pin holds.
        if ((err as NodeJS.ErrnoException).code === 'EEXIST') return readPin() ?? parsed;
        throw err;
      }
      return parsed;
    })();
    // A failed first contact is tried again on the next fetch; a pin, once made, is kept.
    trust.catch(() => (trust = undefined));
    return trust;
  }

  function readPin(): Trust | undefined {
    let text: string;
    try {
      text = readFileSync(pinPath, 'utf8');
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
      throw err;
    }
    let pin: RegistryPin;
    try {
      pin = RegistryPin.parse(JSON.parse(text));
    } catch {
      throw new ApiArtifactError(
        ApiArtifactErrorCode.badTrust,
        `${pinPath} is not a registry key pin: restore it, or remove it to pin the gateway's keys again (only if you trust the gateway now)`,
      );
    }
    return trustFromPin(pin);
  }

  function trustFromPin(pin: RegistryPin): Trust {
    const keys = parseKeys(
      pin.keys.map((k) => k.publicKey),
      pinPath,
    );
    // A key whose id is not its own would let a record name one key and be checked under another.
    for (const [i, k] of pin.keys.entries())
      if (publicKeyId(keys[i]!) !== k.keyId)
        throw new ApiArtifactError(ApiArtifactErrorCode.badTrust, `${pinPath}: key ${k.keyId} is not the key it names`);
    return { tenantId: pin.tenantId, keys };
  }

  function verify(tenantId: string, sha256: string, record: CachedRecord, bytes: Buffer, where: string, t: Trust) {
    if (t.tenantId !== undefined && t.tenantId !== tenantId)
      throw new ApiArtifactError(
        ApiArtifactErrorCode.badTrust,
        `the gateway now answers for tenant ${tenantId}, but this agent pinned the registry keys of tenant ${t.tenantId}: check the agent's API key`,
      );
    try {
      artifactVerifier(t.keys).verify(
        { tenantId, kind: record.kind, sha256, size: record.size },
        record.keyId,
        record.signature,
      );
    } catch (err) {
      if (isRegistryError(err, RegistryErrorCode.untrustedKey))
        throw new ApiArtifactError(
          ApiArtifactErrorCode.untrustedKey,
          `artifact ${sha256} (${where}) is signed by key ${record.keyId}, which this agent does not trust (${configured ? 'apiArtifacts.trustedRegistryKeys' : `pinned in ${pinPath}`}): if the registry's key was rotated on purpose, add its public key to apiArtifacts.trustedRegistryKeys`,
          { sha256, keyId: record.keyId },
        );
      if (isRegistryError(err, RegistryErrorCode.badSignature))
        throw new ApiArtifactError(
          ApiArtifactErrorCode.badSignature,
          `artifact ${sha256} (${where}) has a signature that does not verify under key ${record.keyId}: its record was altered; refusing it`,
          { sha256, keyId: record.keyId },
        );
      throw err;
    }
    if (bytes.length !== record.size)
      throw new ApiArtifactError(
        ApiArtifactErrorCode.tampered,
        `artifact ${sha256} (${where}) is ${bytes.length} bytes, but was signed as ${record.size}: refusing it`,
        { sha256 },
      );
    const actual = sha256Hex(bytes);
    if (actual !== sha256)
      throw new ApiArtifactError(
        ApiArtifactErrorCode.tampered,
        `artifact ${sha256} (${where}) has bytes that hash to ${actual}: refusing it`,
        { sha256, actual },
      );
  }

  const cachePaths = (sha256: string) => {
    const dir = join(objectsDir, sha256.slice(0, 2));
    return { dir, bytes: join(dir, sha256), record: join(dir, `${sha256}.json`) };
  };

  /** Writes a file whole or not at all (temp file, then rename), readable by this user only. */
  const writePrivate = (path: string, data: Buffer | string) => {
    const temp = `${path}.${randomBytes(6).toString('hex')}.tmp`;
    writeFileSync(temp, data, { mode: 0o600 });
    renameSync(temp, path);
  };

  /** A verified artifact from the cache, undefined when not cached; a changed cache file is removed and refused. */
  async function fromCache(sha256: string): Promise<{ record: CachedRecord; bytes: Buffer } | undefined> {
    const paths = cachePaths(sha256);
    let recordText: string;
    let bytes: Buffer;
    try {
      recordText = readFileSync(paths.record, 'utf8');
      bytes = readFileSync(paths.bytes);
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
      throw err;
    }
    const t = await loadTrust();
    try {
      const parsed = CachedRecord.safeParse(
        (() => {
          try {
            return JSON.parse(recordText) as unknown;
          } catch {
            return undefined;
          }
        })(),
      );
      if (!parsed.success)
        throw new ApiArtifactError(ApiArtifactErrorCode.tampered, `the cached record of artifact ${sha256} is not one`);
      verify(parsed.data.tenantId, sha256, parsed.data, bytes, `cached in ${paths.bytes}`, t);
      return { record: parsed.data, bytes };
    } catch (err) {
      // Refused, and removed so that the next fetch downloads it (and verifies it) again.
      rmSync(paths.bytes, { force: true });
      rmSync(paths.record, { force: true });
      if (
        err instanceof ApiArtifactError &&
        (err.code === ApiArtifactErrorCode.tampered || err.code === ApiArtifactErrorCode.badSignature)
      )
        throw new ApiArtifactError(
          err.code,
          `${err.message} (the cached copy was changed on this machine; it was removed: the next fetch downloads it again)`,
          { ...err.details, cache: paths.bytes },
        );
      throw err;
    }
  }

  async function download(sha256: string): Promise<{ record: CachedRecord; bytes: Buffer }> {
    const t = await loadTrust();
    const answer = await get(apiArtifactPath(sha256));
    if (answer.status !== 200) throw gatewayRefusal(answer.status, answer.body, `artifact ${sha256}`);
    const headers = ApiArtifactRecordHeaders.safeParse(answer.headers);
    if (!headers.success)
      throw new ApiArtifactError(
        ApiArtifactErrorCode.gateway,
        `the gateway answered artifact ${sha256} without its record (${headers.error.issues.map((i) => `${i.path.join('.')}: ${i.message}`).join('; ')})`,
      );
    const h = headers.data;
    const record: CachedRecord = {
      tenantId: answer.tenantId,
      kind: h['x-vsc-artifact-kind'],
      size: h['x-vsc-artifact-size'],
      keyId: h['x-vsc-artifact-key-id'],
      signature: h['x-vsc-artifact-signature'],
    };
    verify(record.tenantId, sha256, record, answer.body, 'from the gateway', t);
    const paths = cachePaths(sha256);
    ensurePrivateDir(paths.dir, 'the agent’s artifact cache');
    // Bytes first: a record without its bytes is a miss, never a half-verified hit.
    writePrivate(paths.bytes, answer.body);
    writePrivate(paths.record, JSON.stringify(record));
    return { record, bytes: answer.body };
  }

  return {
    pinRegistryKeys: async () => (await loadTrust()).keys.map(publicKeyId),
    async fetch(sha256, kind) {
      if (typeof sha256 !== 'string' || !API_ARTIFACT_SHA256_PATTERN.test(sha256))
        throw new ApiArtifactError(
          ApiArtifactErrorCode.badInput,
          `${JSON.stringify(sha256)} is not an artifact hash (64 lower-case hex digits)`,
        );
      if (kind !== 'spec' && kind !== 'manifest' && !/^bundle:[A-Za-z0-9._-]{1,128}$/.test(kind))
        throw new ApiArtifactError(
          ApiArtifactErrorCode.badInput,
          `${JSON.stringify(kind)} is not an artifact kind (spec, manifest or bundle:<name>)`,
        );
      let pending = inFlight.get(sha256);
      if (!pending) {
        pending = (async () => (await fromCache(sha256)) ?? download(sha256))();
        inFlight.set(sha256, pending);
        void pending.then(
          () => inFlight.delete(sha256),
          () => inFlight.delete(sha256),
        );
      }
      const { record, bytes } = await pending;
      const wanted = recordKindOf(kind);
      if (record.kind !== wanted)
        throw new ApiArtifactError(
          ApiArtifactErrorCode.wrongKind,
          `artifact ${sha256} is a ${record.kind}, not a ${wanted}: the step names the wrong artifact`,
          { sha256, kind: record.kind },
        );
      return bytes;
    },
  };
}

function parseKeys(keys: readonly string[], where: string): KeyObject[] {
  try {
    return parseTrustedKeys(keys.join(','));
  } catch (err) {
    throw new ApiArtifactError(ApiArtifactErrorCode.badTrust, `${where}: ${(err as Error).message}`);
  }
}

function trustFromConfig(keys: readonly string[]): Trust {
  return { keys: parseKeys(keys, 'apiArtifacts.trustedRegistryKeys') };
}
