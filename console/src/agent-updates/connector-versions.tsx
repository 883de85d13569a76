'use client';

import Link from 'next/link';
import type { Connector } from '../connector/use-connectors';
import { lastSeenText } from '../connector/use-connectors';
import { standingText, versionStanding } from './version-standing';
import { ColumnHeads } from '../column-heads';

/** Per connector: the version its agent ran at its last hello, and whether that is the approved one. */
export function ConnectorVersions({
  tenantId,
  connectors,
  approved,
}: {
  tenantId: string;
  connectors: Connector[];
  approved: { version: string; platforms: readonly string[] } | undefined;
}) {
  if (connectors.length === 0) return <p>This tenant has no connector yet.</p>;
  return (
    <table>
      <caption className="hint">The version each mini connector runs, as its agent last said</caption>
      <ColumnHeads
        names={['Connector', 'Status', 'Agent version', 'Platform', 'On the approved version', 'Last seen']}
      />
      <tbody>
        {connectors.map((c) => {
          const standing = versionStanding(c, approved);
          return (
            <tr key={c.id} data-testid={`version-of-${c.name}`}>
              <td data-label="Connector">
                <Link href={`/tenants/${encodeURIComponent(tenantId)}/connectors/${c.id}`}>{c.name}</Link>
              </td>
              <td data-label="Status">
                <span className={`status ${c.online ? 'status-online' : 'status-offline'}`}>
                  {c.online ? 'Online' : 'Offline'}
                </span>
              </td>
              <td data-label="Agent version">{c.agentVersion ?? 'not connected yet'}</td>
              <td data-label="Platform">{c.agentPlatform ?? (c.agentVersion ? 'from the sources' : '')}</td>
              <td data-label="On the approved version" className={standing.kind === 'on-approved' ? 'ok' : undefined}>
                {standingText(standing)}
              </td>
              <td data-label="Last seen">{lastSeenText(c)}</td>
            </tr>
          );
        })}
      </tbody>
    </table>
  );
}
