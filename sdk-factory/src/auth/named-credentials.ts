import type { Credential } from './credential';
import type { CredentialStore } from './credential-store';

/**
 * A definition's HTTP step names a credential (`credential` in its endpoint): the headers that carry
 * it, from the store. Bearer, Basic, a fixed header, or a cached OAuth token; undefined when the
 * tenant has none of that name (or one of another kind, which an HTTP step cannot attach).
 */
export function namedCredentialHeaders(store: CredentialStore) {
  return {
    async headers(tenantId: string, name: string): Promise<Record<string, string> | undefined> {
      const c = await store.get(tenantId, name);
      const headers = headersOf(c);
      if (headers) await store.markUsed(tenantId, name);
      return headers;
    },
  };
}

function headersOf(c: Credential | undefined): Record<string, string> | undefined {
  switch (c?.kind) {
    case 'bearer':
      return { authorization: `Bearer ${c.token}` };
    case 'basic':
      return { authorization: `Basic ${Buffer.from(`${c.username}:${c.password}`, 'utf8').toString('base64')}` };
    case 'header':
      return { [c.name.toLowerCase()]: c.value };
    case 'oauth2-token':
      return { authorization: `Bearer ${c.accessToken}` };
    default:
      return undefined;
  }
}
