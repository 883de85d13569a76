'use client';

import { useState } from 'react';
import type { PublishedRelease } from './use-agent-updates';
import { ColumnHeads } from '../column-heads';

/**
 * The releases the platform operator published (with an executable), newest first. Approving asks
 * once more: it changes the code every site of the tenant runs.
 */
export function ReleasesTable({
  releases,
  approved,
  canApprove,
  onApprove,
}: {
  releases: PublishedRelease[];
  approved: string | undefined;
  canApprove: boolean;
  onApprove: (version: string) => void;
}) {
  const [confirming, setConfirming] = useState<string | undefined>(undefined);
  if (releases.length === 0)
    return <p>The platform operator has not published a release yet: there is nothing to approve.</p>;
  return (
    <table>
      <caption className="hint">Releases of the mini connector published by the platform operator</caption>
      <ColumnHeads names={['Version', 'Platforms', 'Published', 'Notes', canApprove ? 'Action' : 'Approved']} />
      <tbody>
        {releases.map((r) => (
          <tr key={r.version} data-testid={`release-${r.version}`}>
            <td data-label="Version">
              <strong>{r.version}</strong>
            </td>
            <td data-label="Platforms">{r.platforms.join(', ')}</td>
            <td data-label="Published">{new Date(r.publishedAt).toLocaleString()}</td>
            <td data-label="Notes" className="release-notes">
              {r.notes ?? <span className="hint">none given</span>}
            </td>
            <td data-label={canApprove ? 'Action' : 'Approved'}>
              {r.version === approved ? (
                <span className="ok">Approved</span>
              ) : !canApprove ? (
                <span className="hint">not approved</span>
              ) : confirming === r.version ? (
                <span className="actions">
                  <button
                    type="button"
                    onClick={() => {
                      setConfirming(undefined);
                      onApprove(r.version);
                    }}
                  >
                    Confirm approving {r.version}
                  </button>
                  <button type="button" className="secondary" onClick={() => setConfirming(undefined)}>
                    Cancel
                  </button>
                </span>
              ) : (
                <button type="button" onClick={() => setConfirming(r.version)}>
                  Approve {r.version}
                </button>
              )}
            </td>
          </tr>
        ))}
      </tbody>
    </table>
  );
}
