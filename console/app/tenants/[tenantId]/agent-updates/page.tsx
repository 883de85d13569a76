'use client';

import { useParams } from 'next/navigation';
import { useState } from 'react';
import { outcome } from '../../../../src/api/client';
import { Alert } from '../../../../src/alert';
import { approverText } from '../../../../src/agent-updates/approver';
import { ConnectorVersions } from '../../../../src/agent-updates/connector-versions';
import { ReleasesTable } from '../../../../src/agent-updates/releases-table';
import { useAgentUpdates, type Approval } from '../../../../src/agent-updates/use-agent-updates';
import { WhatApprovingDoes } from '../../../../src/agent-updates/what-approving-does';
import { REFRESH_MS, useConnectors } from '../../../../src/connector/use-connectors';
import { NotConnected } from '../../../../src/not-connected';
import { TenantNav } from '../../../../src/tenant-nav';
import { approvesAgentVersions, useTenantRole } from '../../../../src/tenant-role';

/**
 * Agent updates (issue 13 §5): the version the tenant approved, the published releases, approving or
 * withdrawing (owners and admins; others read), and where each connector's agent stands.
 */
export default function AgentUpdatesPage() {
  const { tenantId } = useParams<{ tenantId: string }>();
  const { connection, role, loading } = useTenantRole(tenantId);
  const { client, session } = connection;
  const enabled = !!client;
  const { approval, releases, members, error, setApproval } = useAgentUpdates(tenantId, enabled);
  const { connectors, error: connectorsError } = useConnectors(tenantId, REFRESH_MS, enabled);
  const [actionError, setActionError] = useState('');
  const [status, setStatus] = useState('');

  if (!connection.ready) return null;
  if (!client || !session) return <NotConnected />;
  const canApprove = approvesAgentVersions(role);
  const approved = approval?.approved ?? null;
  const path = { params: { path: { tenantId } } };

  /** One change; the gateway answers the approval as it now is, which the page then shows. */
  const change = async (call: () => Promise<{ data?: Approval; error?: unknown; response: Response }>) => {
    setActionError('');
    setStatus('');
    const out = await outcome(session.gatewayUrl, call);
    if ('error' in out) return setActionError(out.error);
    setApproval(out.data);
    setStatus(
      out.data.approved
        ? `Version ${out.data.approved.version} is approved: this tenant's agents are offered it.`
        : 'The approval was withdrawn: agents keep the version they run.',
    );
  };
  const approve = (version: string) =>
    change(() => client.PUT('/v1/tenants/{tenantId}/agent-version', { ...path, body: { version } }));
  const withdraw = () => change(() => client.DELETE('/v1/tenants/{tenantId}/agent-version', path));

  return (
    <>
      <TenantNav tenantId={tenantId} />
      <h1>Agent updates of {tenantId}</h1>
      {!loading && !canApprove && (
        <p className="hint">You can see which version is approved; owners and admins approve or withdraw it.</p>
      )}
      <Alert message={error || actionError} />
      <p aria-live="polite" className="status-line">
        {status}
      </p>

      <section aria-labelledby="approved-version">
        <h2 id="approved-version">Approved version</h2>
        {!approval && !error && <p>Loading…</p>}
        {approval && approved && (
          <p data-testid="approved-version">
            <strong>{approved.version}</strong> is approved, by {approverText(approved.approvedBy, members)} on{' '}
            {new Date(approved.approvedAt).toLocaleString()}.
          </p>
        )}
        {approval && !approved && (
          <p data-testid="approved-version">No version is approved: each agent keeps the version it runs.</p>
        )}
        {canApprove && approved && (
          <button type="button" className="secondary" onClick={() => void withdraw()}>
            Withdraw the approval
          </button>
        )}
      </section>

      <WhatApprovingDoes />

      <section aria-labelledby="published-releases">
        <h2 id="published-releases">Versions you can approve</h2>
        {releases && (
          <ReleasesTable
            releases={releases}
            approved={approved?.version}
            canApprove={canApprove}
            onApprove={(version) => void approve(version)}
          />
        )}
      </section>

      <section aria-labelledby="connector-versions">
        <h2 id="connector-versions">Connectors</h2>
        <Alert message={connectorsError} />
        {connectors && (
          <ConnectorVersions
            tenantId={tenantId}
            connectors={connectors}
            approved={
              approved
                ? {
                    version: approved.version,
                    platforms: releases?.find((r) => r.version === approved.version)?.platforms ?? [],
                  }
                : undefined
            }
          />
        )}
      </section>
    </>
  );
}
