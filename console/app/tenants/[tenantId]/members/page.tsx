'use client';

import { useParams } from 'next/navigation';
import { useCallback, useEffect, useState, type FormEvent } from 'react';
import { describeFailure, outcome, unreachable, type paths } from '../../../../src/api/client';
import { Alert } from '../../../../src/alert';
import { ColumnHeads } from '../../../../src/column-heads';
import { NotConnected } from '../../../../src/not-connected';
import { TenantNav } from '../../../../src/tenant-nav';
import { RoleOptions } from '../../../../src/role-options';
import { managesPeople, useTenantRole } from '../../../../src/tenant-role';
import type { Role } from '../../../../src/use-connection';

type Member =
  paths['/v1/tenants/{tenantId}/members']['get']['responses']['200']['content']['application/json']['members'][number];

/** Members and roles: owners and admins add (new people only), change roles and remove; others read. */
export default function MembersPage() {
  const { tenantId } = useParams<{ tenantId: string }>();
  const { connection, role: myRole, loading } = useTenantRole(tenantId);
  const { client, session } = connection;
  const [members, setMembers] = useState<Member[] | undefined>(undefined);
  const [error, setError] = useState('');
  const [status, setStatus] = useState('');
  const [removing, setRemoving] = useState<Member | undefined>(undefined);
  const [form, setForm] = useState({ email: '', displayName: '', role: 'viewer' as Role, password: '' });
  const [addError, setAddError] = useState('');

  const load = useCallback(async () => {
    if (!client || !session) return;
    const out = await outcome(session.gatewayUrl, () =>
      client.GET('/v1/tenants/{tenantId}/members', { params: { path: { tenantId } } }),
    );
    if ('data' in out) setMembers(out.data.members);
    else setError(out.error);
  }, [client, session, tenantId]);

  useEffect(() => void load(), [load]);

  if (!connection.ready) return null;
  if (!client || !session) return <NotConnected />;
  const canManage = managesPeople(myRole);
  const path = { tenantId };

  /** One change: its refusal shown as the gateway words it, the list read again either way. */
  const change = async (run: () => Promise<{ response: Response; error?: unknown }>, done: string) => {
    setError('');
    setStatus('');
    try {
      const { response, error: body } = await run();
      if (response.ok) setStatus(done);
      else setError(describeFailure(response.status, body));
    } catch {
      setError(unreachable(session.gatewayUrl));
    }
    await load();
  };

  const add = async (event: FormEvent) => {
    event.preventDefault();
    setAddError('');
    if (!form.email.trim()) return setAddError('Write the new member’s email address.');
    if (form.password.length < 12)
      return setAddError('Give the new person an initial password of at least 12 characters (they can change it).');
    const {
      data,
      error: body,
      response,
    } = await client
      .POST('/v1/tenants/{tenantId}/members', {
        params: { path },
        body: {
          email: form.email.trim(),
          role: form.role,
          password: form.password,
          ...(form.displayName.trim() ? { displayName: form.displayName.trim() } : {}),
        },
      })
      .catch(() => ({ data: undefined, error: undefined, response: undefined }));
    if (!response) return setAddError(unreachable(session.gatewayUrl));
    if (!data)
      return setAddError(
        response.status === 409
          ? `${describeFailure(409, body)} People who already have an account join through an invitation.`
          : describeFailure(response.status, body),
      );
    setForm({ email: '', displayName: '', role: 'viewer', password: '' });
    setStatus(`${data.email} was added as ${data.role}.`);
    await load();
  };

  return (
    <>
      <TenantNav tenantId={tenantId} />
      <h1>Members of {tenantId}</h1>
      {!loading && !canManage && <p className="hint">You can see the members; owners and admins change them.</p>}
      <Alert message={error} />
      <p aria-live="polite" className="status-line">
        {status}
      </p>
      {!members && !error && <p>Loading…</p>}
      {members && (
        <table>
          <caption className="hint">People of this tenant and their roles</caption>
          <ColumnHeads names={['Email', 'Name', 'Role', ...(canManage ? ['Actions'] : [])]} />
          <tbody>
            {members.map((m) => (
              <tr key={m.userId} data-testid={`member-${m.email}`}>
                <td data-label="Email">{m.email}</td>
                <td data-label="Name">{m.displayName}</td>
                <td data-label="Role">
                  {canManage ? (
                    <select
                      aria-label={`Role of ${m.email}`}
                      value={m.role}
                      onChange={(e) => {
                        const role = e.target.value as Role;
                        void change(
                          () =>
                            client.PUT('/v1/tenants/{tenantId}/members/{userId}', {
                              params: { path: { ...path, userId: m.userId } },
                              body: { role },
                            }),
                          `${m.email} is now ${role}.`,
                        );
                      }}
                    >
                      <RoleOptions />
                    </select>
                  ) : (
                    m.role
                  )}
                </td>
                {canManage && (
                  <td data-label="Actions">
                    {removing?.userId === m.userId ? (
                      <span className="actions">
                        <button
                          type="button"
                          className="danger"
                          onClick={() => {
                            setRemoving(undefined);
                            void change(
                              () =>
                                client.DELETE('/v1/tenants/{tenantId}/members/{userId}', {
                                  params: { path: { ...path, userId: m.userId } },
                                }),
                              `${m.email} was removed.`,
                            );
                          }}
                        >
                          Confirm removing {m.email}
                        </button>
                        <button type="button" className="secondary" onClick={() => setRemoving(undefined)}>
                          Keep
                        </button>
                      </span>
                    ) : (
                      <button type="button" className="secondary" onClick={() => setRemoving(m)}>
                        Remove {m.email}
                      </button>
                    )}
                  </td>
                )}
              </tr>
            ))}
          </tbody>
        </table>
      )}
      {canManage && (
        <>
          <h2>Add a new person</h2>
          <p className="hint">
            This creates their account with an initial password you give them. Someone who already has an account joins
            through an invitation instead.
          </p>
          <form onSubmit={(e) => void add(e)} noValidate>
            <label>
              Their email address
              <input
                name="memberEmail"
                type="email"
                autoComplete="off"
                value={form.email}
                onChange={(e) => setForm({ ...form, email: e.target.value })}
              />
            </label>
            <label>
              Their name
              <input
                name="memberName"
                autoComplete="off"
                value={form.displayName}
                onChange={(e) => setForm({ ...form, displayName: e.target.value })}
              />
            </label>
            <label>
              Their role
              <select
                name="memberRole"
                value={form.role}
                onChange={(e) => setForm({ ...form, role: e.target.value as Role })}
              >
                <RoleOptions />
              </select>
            </label>
            <label>
              Initial password
              <span className="hint">At least 12 characters; give it to them another way than this console.</span>
              <input
                name="memberPassword"
                type="password"
                autoComplete="new-password"
                value={form.password}
                onChange={(e) => setForm({ ...form, password: e.target.value })}
              />
            </label>
            <Alert message={addError} />
            <button type="submit">Add member</button>
          </form>
        </>
      )}
    </>
  );
}
