import type { paths } from '../api/client';

/** What the gateway answers when it verifies a hash chain (a connector's, or a tenant's people chain). */
export type ChainVerification =
  paths['/v1/tenants/{tenantId}/audit/verify']['get']['responses']['200']['content']['application/json'];

/** What the verification says, in a sentence (a broken chain names its first broken link and why). */
export function verdict(v: ChainVerification): string {
  if (v.ok)
    return `Verified: ${v.count} record${v.count === 1 ? '' : 's'}, every hash links to the one before${
      v.keyed ? `, signed checkpoints hold through record ${v.keyed.signedThrough}` : ''
    }${v.head ? `; head ${v.head.hash.slice(0, 16)}… at record ${v.head.seq}` : ''}.`;
  return `NOT verified: the chain breaks at record ${v.brokenAt} (${v.reason}): ${v.message}`;
}

/** The verdict as a status line; a broken chain is announced (role="alert"). */
export function ChainVerdict({ verification, testId }: { verification: ChainVerification; testId: string }) {
  return (
    <p data-testid={testId} className={verification.ok ? '' : 'error'} role={verification.ok ? undefined : 'alert'}>
      <span className={`status ${verification.ok ? 'status-online' : 'status-failed'}`}>
        {verification.ok ? 'verified' : 'broken'}
      </span>{' '}
      {verdict(verification)}
    </p>
  );
}
