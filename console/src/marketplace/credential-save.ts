'use client';

import { useState } from 'react';
import type { paths } from '../api/client';
import { callGateway } from '../gateway-call';

type Put = paths['/v1/tenants/{tenantId}/credentials/{name}']['put'];
/** What an owner may store (the gateway's OwnerCredential), by kind. */
export type OwnerCredential = NonNullable<Put['requestBody']>['content']['application/json']['credential'];
/** A credential as the gateway shows it: names, dates, identifying fields, OAuth status; never a secret. */
export type CredentialView = Put['responses'][200]['content']['application/json']['credential'];

/**
 * Saving one scheme's credential `<apiId>.<scheme>` (PUT, write-only). `save` answers the stored
 * view, or undefined after setting `error` to the gateway's sentence; the form clears its fields
 * on success, so a secret is in the page only while it is typed.
 */
export function useCredentialSave(tenantId: string, apiId: string, scheme: string) {
  const name = `${apiId}.${scheme}`;
  const [error, setError] = useState('');
  const [saved, setSaved] = useState<CredentialView | undefined>(undefined);
  const [busy, setBusy] = useState(false);

  const save = async (credential: OwnerCredential): Promise<CredentialView | undefined> => {
    setBusy(true);
    const out = await callGateway((c) =>
      c.PUT('/v1/tenants/{tenantId}/credentials/{name}', {
        params: { path: { tenantId, name } },
        body: { credential },
      }),
    );
    setBusy(false);
    if (!out.ok) {
      setError(out.message);
      return undefined;
    }
    setError('');
    setSaved(out.data.credential);
    return out.data.credential;
  };

  return { name, error, setError, saved, busy, save };
}
