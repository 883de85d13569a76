import { readFileSync } from 'node:fs';
import { z } from 'zod';
import { checkPrivateFile, PrivatePathError } from '@vansales/protocol';

/**
 * Named API credentials the cloud attaches to HTTP steps, per tenant: a definition names one
 * (`credential`), never holds it. Kept in a 0600 JSON file named by VSC_CLOUD_CREDENTIALS_FILE (a
 * Vault-compatible store can implement the same lookup). The value goes into request headers only:
 * never into a log, an error, workflow history or a dataset.
 */
const HeaderName = z
  .string()
  .regex(/^[A-Za-z0-9!#$%&'*+.^_`|~-]{1,128}$/, 'a header name (letters, digits, -)')
  .refine(
    (n) => !['host', 'content-length', 'transfer-encoding', 'connection', 'idempotency-key'].includes(n.toLowerCase()),
    'a header the request sets itself',
  );
const HeaderValue = z
  .string()
  .min(1)
  .max(8192)
  .refine((v) => !/[\r\n]/.test(v) && !v.includes('\0'), 'no line breaks or NUL characters');
export const CloudCredential = z.discriminatedUnion('kind', [
  z.object({ kind: z.literal('bearer'), token: HeaderValue }),
  z.object({
    kind: z.literal('basic'),
    username: z
      .string()
      .max(512)
      .regex(/^[^:\r\n]*$/),
    password: HeaderValue,
  }),
  z.object({ kind: z.literal('header'), name: HeaderName, value: HeaderValue }),
]);
export type CloudCredential = z.infer<typeof CloudCredential>;
const CredentialsFile = z.record(z.string().min(1), z.record(z.string().min(1).max(128), CloudCredential));

export interface CloudCredentials {
  /**
   * The headers that carry the named credential of this tenant, or undefined when it has none of that
   * name. Async for stores that read a database (sdk-factory/auth's `namedCredentialHeaders`).
   */
  headers(
    tenantId: string,
    name: string,
  ): Record<string, string> | undefined | Promise<Record<string, string> | undefined>;
}

export class CloudCredentialsError extends Error {
  override name = 'CloudCredentialsError';
}

export function credentialHeaders(credential: CloudCredential): Record<string, string> {
  switch (credential.kind) {
    case 'bearer':
      return { authorization: `Bearer ${credential.token}` };
    case 'basic':
      return {
        authorization: `Basic ${Buffer.from(`${credential.username}:${credential.password}`).toString('base64')}`,
      };
    case 'header':
      return { [credential.name.toLowerCase()]: credential.value };
  }
}

export function cloudCredentialsFrom(entries: z.input<typeof CredentialsFile>): CloudCredentials {
  const parsed = CredentialsFile.parse(entries);
  return {
    // Own entries only: names come from workflow input (`__proto__` is not a credential).
    headers(tenantId, name) {
      const tenant = Object.hasOwn(parsed, tenantId) ? parsed[tenantId] : undefined;
      const credential = tenant && Object.hasOwn(tenant, name) ? tenant[name] : undefined;
      return credential ? credentialHeaders(credential) : undefined;
    },
  };
}

/**
 * Asks each source in turn and answers with the first that has the name: the cloud worker puts the
 * credential store first and the VSC_CLOUD_CREDENTIALS_FILE after it (the documented fallback).
 */
export function firstCredentials(...sources: CloudCredentials[]): CloudCredentials {
  return {
    async headers(tenantId, name) {
      for (const source of sources) {
        const found = await source.headers(tenantId, name);
        if (found) return found;
      }
      return undefined;
    },
  };
}

/** Read once at start (a worker restarts to pick up a changed file); the file must be 0600. */
export function loadCloudCredentials(path: string | undefined): CloudCredentials {
  if (!path) return { headers: () => undefined };
  let raw: unknown;
  try {
    checkPrivateFile(path, 'cloud credentials file');
    raw = JSON.parse(readFileSync(path, 'utf8'));
  } catch (err) {
    if (err instanceof PrivatePathError) throw new CloudCredentialsError(err.message);
    throw new CloudCredentialsError(
      `cannot read cloud credentials file ${path}: ${(err as NodeJS.ErrnoException).code ?? 'not valid JSON'}`,
    );
  }
  const parsed = CredentialsFile.safeParse(raw);
  if (!parsed.success) {
    const issue = parsed.error.issues[0];
    // The path names the entry; values are never echoed.
    throw new CloudCredentialsError(
      `cloud credentials file ${path} is invalid at ${issue?.path.join('.') || '(root)'}: ${issue?.message ?? ''}`,
    );
  }
  return cloudCredentialsFrom(parsed.data);
}
