'use client';

import { useParams } from 'next/navigation';
import { useCallback, useEffect, useState, type FormEvent } from 'react';
import { describeFailure, outcome, unreachable, type paths } from '../../../../src/api/client';
import { Alert } from '../../../../src/alert';
import { NotConnected } from '../../../../src/not-connected';
import { TenantNav } from '../../../../src/tenant-nav';
import { RoleOptions } from '../../../../src/role-options';
import { managesPeople, useTenantRole } from '../../../../src/tenant-role';
import type { Role } from '../../../../src/use-connection';
import { ColumnHeads } from '../../../../src/column-heads';

type TokenPath = paths['/v1/tenants/{tenantId}/tokens'];
type Token = TokenPath['get']['responses']['200']['content']['application/json']['tokens'][number];
type Created = TokenPath['post']['responses']['201']['content']['application/json'];

const day = (iso: string | null) => (iso ? new Date(iso).toLocaleDateString() : '—');

/** API tokens: create (role, expiry; the secret shown once), list without secrets, revoke. */
export default function TokensPage() {
  const { tenantId } = useParams<{ tenantId: string }>();
  const { connection, role: myRole } = useTenantRole(tenantId);
  const { client, session } = connection;
  const [tokens, setTokens] = useState<Token[] | undefined>(undefined);
  const [error, setError] = useState('');
  const [status, setStatus] = useState('');
  const [form, setForm] = useState({ name: '', role: 'viewer' as Role, days: '90', kind: 'personal' });
  const [formError, setFormError] = useState('');
  const [created, setCreated] = useState<Created | undefined>(undefined);
  const [copied, setCopied] = useState('');

  const load = useCallback(async () => {
    if (!client || !session) return;
    const out = await outcome(session.gatewayUrl, () =>
      client.GET('/v1/tenants/{tenantId}/tokens', { params: { path: { tenantId } } }),
    );
    if ('data' in out) setTokens(out.data.tokens);
    else setError(out.error);
  }, [client, session, tenantId]);

  useEffect(() => void load(), [load]);

  if (!connection.ready) return null;
  if (!client || !session) return <NotConnected />;

  const create = async (event: FormEvent) => {
    event.preventDefault();
    setFormError('');
    setCreated(undefined);
    const days = Number(form.days);
    if (!form.name.trim()) return setFormError('Name the token after what will use it (for example "nightly export").');
    if (!Number.isInteger(days) || days < 1 || days > 3650)
      return setFormError('The expiry is a whole number of days, from 1 to 3650.');
    try {
      const {
        data,
        error: body,
        response,
      } = await client.POST('/v1/tenants/{tenantId}/tokens', {
        params: { path: { tenantId } },
        body: {
          name: form.name.trim(),
          role: form.role,
          expiresInDays: days,
          kind: form.kind === 'tenant' ? 'tenant' : 'personal',
        },
      });
      if (!data) return setFormError(describeFailure(response.status, body));
      setCreated(data);
      setCopied('');
      setForm({ ...form, name: '' });
      await load();
    } catch {
      setFormError(unreachable(session.gatewayUrl));
    }
  };

  const revoke = async (token: Token) => {
    setError('');
    setStatus('');
    const out = await outcome(session.gatewayUrl, () =>
      client.DELETE('/v1/tenants/{tenantId}/tokens/{tokenId}', { params: { path: { tenantId, tokenId: token.id } } }),
    );
    if ('data' in out) setStatus(`The token ${token.name} is revoked: it stops working at once.`);
    else setError(out.error);
    await load();
  };

  const copy = async (secret: string) => {
    try {
      await navigator.clipboard.writeText(secret);
      setCopied('Copied to the clipboard.');
    } catch {
      setCopied('The browser did not allow copying: select the token and copy it by hand.');
    }
  };

  return (
    <>
      <TenantNav tenantId={tenantId} />
      <h1>API tokens of {tenantId}</h1>
      <p className="hint">
        {managesPeople(myRole)
          ? 'You see every token of this tenant.'
          : 'You see your own tokens. A token’s role can be no more than yours.'}
      </p>
      {created && (
        <section className="secret" aria-labelledby="secret-heading">
          <h2 id="secret-heading">Your new token {created.name}</h2>
          <p role="alert">
            Copy it now: it is shown only this once. The gateway keeps only a hash, so it cannot be shown again.
          </p>
          <label>
            Token secret
            <input readOnly name="tokenSecret" value={created.token} onFocus={(e) => e.target.select()} />
          </label>
          <div className="actions">
            <button type="button" onClick={() => void copy(created.token)}>
              Copy token
            </button>
            <button type="button" className="secondary" onClick={() => setCreated(undefined)}>
              I have copied it
            </button>
          </div>
          <p aria-live="polite">{copied}</p>
        </section>
      )}
      <h2>Create a token</h2>
      <form onSubmit={(e) => void create(e)} noValidate>
        <label>
          Token name
          <input
            name="tokenName"
            autoComplete="off"
            value={form.name}
            onChange={(e) => setForm({ ...form, name: e.target.value })}
          />
        </label>
        <label>
          Token role
          <select
            name="tokenRole"
            value={form.role}
            onChange={(e) => setForm({ ...form, role: e.target.value as Role })}
          >
            <RoleOptions />
          </select>
        </label>
        <label>
          Expires in (days)
          <input
            name="tokenDays"
            type="number"
            min={1}
            max={3650}
            value={form.days}
            onChange={(e) => setForm({ ...form, days: e.target.value })}
          />
        </label>
        {managesPeople(myRole) && (
          <label>
            Acts for
            <select name="tokenKind" value={form.kind} onChange={(e) => setForm({ ...form, kind: e.target.value })}>
              <option value="personal">Me (stops when I leave the tenant)</option>
              <option value="tenant">The tenant (a service account)</option>
            </select>
          </label>
        )}
        <Alert message={formError} />
        <button type="submit">Create token</button>
      </form>
      <h2>Tokens</h2>
      <Alert message={error} />
      <p aria-live="polite" className="status-line">
        {status}
      </p>
      {tokens && tokens.length === 0 && <p>No token yet.</p>}
      {tokens && tokens.length > 0 && (
        <table>
          <caption className="hint">Tokens of this tenant, without their secrets</caption>
          <ColumnHeads names={['Name', 'Role', 'Acts for', 'Expires', 'Last used', 'State']} />
          <tbody>
            {tokens.map((t) => (
              <tr key={t.id} data-testid={`token-${t.name}`}>
                <td data-label="Name">{t.name}</td>
                <td data-label="Role">{t.role}</td>
                <td data-label="Acts for">{t.userId ? 'a person' : 'the tenant'}</td>
                <td data-label="Expires">{day(t.expiresAt)}</td>
                <td data-label="Last used">{day(t.lastUsedAt)}</td>
                <td data-label="State">
                  {t.revokedAt ? (
                    `Revoked ${day(t.revokedAt)}`
                  ) : (
                    <button type="button" className="danger" onClick={() => void revoke(t)}>
                      Revoke {t.name}
                    </button>
                  )}
                </td>
              </tr>
            ))}
          </tbody>
        </table>
      )}
    </>
  );
}
