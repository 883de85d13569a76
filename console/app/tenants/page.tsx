'use client';

import Link from 'next/link';
import { useRouter } from 'next/navigation';
import { useState, type FormEvent } from 'react';
import { describeFailure, unreachable } from '../../src/api/client';
import { Alert } from '../../src/alert';
import { NotConnected } from '../../src/not-connected';
import { useConnection, useMe } from '../../src/use-connection';

// The gateway's TENANT_ID_PATTERN (@vansales/protocol): checked here too so a typo is named before a request.
const TENANT_ID = /^[a-z0-9][a-z0-9-]{1,39}$/;
const TENANT_ID_RULE = 'A tenant id is 2 to 40 lower-case letters, digits and dashes (for example acme)';

/** Tenants: the person's memberships (GET /v1/me), creating one, and opening one by id (for a pasted token). */
export default function TenantsPage() {
  const router = useRouter();
  const connection = useConnection();
  const { me, error: meError, reload } = useMe(connection);
  const [newId, setNewId] = useState('');
  const [newName, setNewName] = useState('');
  const [createError, setCreateError] = useState('');
  const [openId, setOpenId] = useState('');
  const [openError, setOpenError] = useState('');

  if (!connection.ready) return null;
  const { client, session } = connection;
  if (!client || !session) return <NotConnected />;

  const create = async (event: FormEvent) => {
    event.preventDefault();
    const id = newId.trim();
    if (!TENANT_ID.test(id)) return setCreateError(TENANT_ID_RULE);
    try {
      const {
        data,
        error: body,
        response,
      } = await client.POST('/v1/tenants', {
        body: { id, name: newName.trim() || id },
      });
      if (!data) return setCreateError(describeFailure(response.status, body));
      reload();
      router.push(`/tenants/${encodeURIComponent(data.id)}`);
    } catch {
      setCreateError(unreachable(session.gatewayUrl));
    }
  };

  const open = (event: FormEvent) => {
    event.preventDefault();
    const id = openId.trim();
    if (!TENANT_ID.test(id)) return setOpenError(TENANT_ID_RULE);
    router.push(`/tenants/${encodeURIComponent(id)}`);
  };

  return (
    <>
      <h1>Tenants</h1>
      <Alert message={meError} />
      {me === undefined && !meError && <p aria-live="polite">Loading…</p>}
      {me && me.memberships.length === 0 && (
        <p>You are a member of no tenant yet: create one, or ask an owner to add you.</p>
      )}
      {me && me.memberships.length > 0 && (
        <ul aria-label="Your tenants">
          {me.memberships.map((m) => (
            <li key={m.tenantId}>
              <Link href={`/tenants/${encodeURIComponent(m.tenantId)}`}>{m.tenantId}</Link>{' '}
              <span className="hint">({m.role})</span>
            </li>
          ))}
        </ul>
      )}
      <h2>Create a tenant</h2>
      <form onSubmit={(e) => void create(e)} noValidate>
        <label>
          Id of the new tenant
          <span className="hint">2 to 40 lower-case letters, digits and dashes; it cannot change later.</span>
          <input name="newTenantId" value={newId} onChange={(e) => setNewId(e.target.value)} required />
        </label>
        <label>
          Name
          <input name="newTenantName" value={newName} onChange={(e) => setNewName(e.target.value)} />
        </label>
        <Alert message={createError} />
        <button type="submit">Create tenant</button>
      </form>
      {me === null && (
        <>
          <h2>Open a tenant</h2>
          <p className="hint">
            This token is no person&apos;s, so the gateway lists no tenants for it: open one by id.
          </p>
          <form onSubmit={open} noValidate>
            <label>
              Tenant id
              <input name="tenantId" value={openId} onChange={(e) => setOpenId(e.target.value)} required />
            </label>
            <Alert message={openError} />
            <button type="submit">Open</button>
          </form>
        </>
      )}
    </>
  );
}
