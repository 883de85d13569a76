import { randomBytes } from 'node:crypto';
import type { CredentialRepository, CredentialRows, CredentialSummaryRow } from '@vansales/metadata';
import { AuthError, AuthErrorCode } from './auth-error';
import { Credential, CredentialName, type CredentialInput, type CredentialKind } from './credential';
import { contextBytes, openBytes, sealBytes, type KeyWrapper } from './key-wrapper';

export interface CredentialSummary {
  name: string;
  kind: CredentialKind;
  version: number;
  createdAt: Date;
  updatedAt: Date;
  /** The last failure to use it (a refused OAuth refresh), until a new value replaces it. */
  failure?: { message: string; at: Date };
  /** When it was last attached to a request (to the minute). */
  lastUsedAt?: Date;
}

/**
 * A tenant's named secrets. Every member takes the tenant: there is no way to reach a secret by name
 * alone. Implementations: the metadata store (envelope encryption, below); a Vault KV backend can
 * implement the same.
 */
export interface CredentialStore {
  /** Stores a new value (a new data key each time); returns its version. */
  put(tenantId: string, name: string, credential: CredentialInput, options?: { expiresAt?: Date }): Promise<number>;
  get(tenantId: string, name: string): Promise<Credential | undefined>;
  /** Reads and deletes at once: a one-time secret (a pending authorization) is used once. */
  take(tenantId: string, name: string): Promise<Credential | undefined>;
  delete(tenantId: string, name: string): Promise<boolean>;
  list(tenantId: string, prefix?: string): Promise<CredentialSummary[]>;
  /** Records why a credential could not be used, for its owner (listing shows it until a new value). */
  recordFailure(tenantId: string, name: string, message: string): Promise<void>;
  /** Notes that the credential was attached to a request (what its owner sees as last used). */
  markUsed(tenantId: string, name: string): Promise<void>;
  /** Rewraps every data key under the wrapper's current master key; returns how many were rewrapped. */
  rotateMasterKey(): Promise<number>;
  /**
   * Runs `fn` while no other process sharing this store runs it for the same (tenant, name) (the
   * metadata store: a PostgreSQL advisory lock), `fn` reading and writing through the given store.
   * What `fn` wrote before it threw is kept. Absent on stores without such a lock (and on the store
   * given to `fn`): then only a process's own collapsing applies.
   */
  exclusive?<T>(tenantId: string, name: string, fn: (store: CredentialStore) => Promise<T>): Promise<T>;
}

const SECRET_PURPOSE = 'secret';

function checkName(name: string): string {
  const parsed = CredentialName.safeParse(name);
  if (!parsed.success)
    throw new AuthError(
      AuthErrorCode.badInput,
      `credential name ${JSON.stringify(name.slice(0, 80))}: ${parsed.error.issues[0]?.message}`,
    );
  return parsed.data;
}

const summaryOf = (r: CredentialSummaryRow): CredentialSummary => ({
  name: r.name,
  kind: r.kind as CredentialKind,
  version: r.version,
  createdAt: r.createdAt,
  updatedAt: r.updatedAt,
  failure: r.failure ? { message: r.failure, at: r.failedAt ?? r.updatedAt } : undefined,
  lastUsedAt: r.lastUsedAt,
});

/**
 * The credential store in the metadata database: each secret sealed (AES-256-GCM) under a random
 * data key of its own, the data key wrapped by the KeyWrapper; both bound to (tenant, name), so a
 * row copied to another tenant or renamed does not open. Errors name the tenant and the name only.
 */
export function createMetadataCredentialStore(deps: {
  /** The rows (a repository's `withLock` makes `exclusive` available). */
  repository: CredentialRows & Partial<Pick<CredentialRepository, 'withLock'>>;
  wrapper: KeyWrapper;
  /** How long `exclusive` waits for another process (default: the repository's). */
  lockTimeoutMs?: number;
}): CredentialStore {
  const { repository, wrapper } = deps;

  async function open(
    tenantId: string,
    name: string,
    row: { keyId: string; wrappedKey: Buffer; sealed: Buffer } | undefined,
  ): Promise<Credential | undefined> {
    if (!row) return undefined;
    const context = { tenantId, name };
    const dataKey = await wrapper.unwrap(row.wrappedKey, row.keyId, context);
    const plain = openBytes(dataKey, row.sealed, contextBytes(SECRET_PURPOSE, context));
    dataKey.fill(0);
    if (!plain)
      throw new AuthError(
        AuthErrorCode.undecryptable,
        `credential ${name} of tenant ${tenantId} does not open: it was not stored under this tenant and name, or it was changed`,
      );
    const parsed = Credential.safeParse(JSON.parse(plain.toString('utf8')));
    plain.fill(0);
    if (!parsed.success)
      throw new AuthError(
        AuthErrorCode.undecryptable,
        `credential ${name} of tenant ${tenantId} holds no credential this version reads`,
      );
    return parsed.data;
  }

  const withLock = repository.withLock;
  const exclusive: CredentialStore['exclusive'] = withLock
    ? async (tenantId, name, fn) => {
        checkName(name);
        try {
          return await withLock(
            tenantId,
            name,
            (rows) => fn(createMetadataCredentialStore({ repository: rows, wrapper })),
            deps.lockTimeoutMs,
          );
        } catch (err) {
          // By name: the metadata package stays a type-only import here (the agent loads this module too).
          if (err instanceof Error && err.name === 'CredentialLockTimeoutError')
            throw new AuthError(
              AuthErrorCode.tokenEndpointUnavailable,
              `${err.message} (renewing its token); try again`,
              true,
            );
          throw err;
        }
      }
    : undefined;

  return {
    ...(exclusive ? { exclusive } : {}),
    async put(tenantId, name, input, options) {
      checkName(name);
      const parsed = Credential.safeParse(input);
      if (!parsed.success) {
        const issue = parsed.error.issues[0];
        // The path names the field; the value is never echoed.
        throw new AuthError(
          AuthErrorCode.badInput,
          `credential ${name}: ${issue?.path.join('.') || 'value'}: ${issue?.message ?? 'invalid'}`,
        );
      }
      const context = { tenantId, name };
      const dataKey = randomBytes(32);
      const sealed = sealBytes(
        dataKey,
        Buffer.from(JSON.stringify(parsed.data), 'utf8'),
        contextBytes(SECRET_PURPOSE, context),
      );
      const { keyId, wrapped } = await wrapper.wrap(dataKey, context);
      dataKey.fill(0);
      return repository.put({
        tenantId,
        name,
        kind: parsed.data.kind,
        keyId,
        wrappedKey: wrapped,
        sealed,
        expiresAt: options?.expiresAt,
      });
    },
    async get(tenantId, name) {
      checkName(name);
      return open(tenantId, name, await repository.get(tenantId, name));
    },
    async take(tenantId, name) {
      checkName(name);
      return open(tenantId, name, await repository.take(tenantId, name));
    },
    async delete(tenantId, name) {
      checkName(name);
      return repository.delete(tenantId, name);
    },
    async list(tenantId, prefix) {
      return (await repository.list(tenantId, prefix)).map(summaryOf);
    },
    async recordFailure(tenantId, name, message) {
      await repository.recordFailure(tenantId, name, message);
    },
    async markUsed(tenantId, name) {
      await repository.markUsed(tenantId, name);
    },
    async rotateMasterKey() {
      let count = 0;
      for (;;) {
        const batch = await repository.wrappedUnderOther(wrapper.currentKeyId);
        if (batch.length === 0) return count;
        for (const row of batch) {
          const context = { tenantId: row.tenantId, name: row.name };
          const dataKey = await wrapper.unwrap(row.wrappedKey, row.keyId, context);
          const { keyId, wrapped } = await wrapper.wrap(dataKey, context);
          dataKey.fill(0);
          // Conditional on the old key id: a concurrent put (already under the current key) is kept.
          if (await repository.rewrap(row.tenantId, row.name, { keyId: row.keyId }, { keyId, wrappedKey: wrapped }))
            count += 1;
        }
      }
    },
  };
}
