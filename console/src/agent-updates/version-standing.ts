/** Where a connector's agent stands against the tenant's approved version, for the "Agent updates" page. */
export type Standing =
  | { kind: 'no-approval' }
  | { kind: 'never-connected' }
  | { kind: 'on-approved' }
  | { kind: 'offered'; approved: string; now: boolean };

/**
 * The gateway offers the approved version at each hello (and at once to connected agents when it is
 * approved); an agent on another version is therefore "offered" it, now if online, else when it
 * connects. Whether it switches is the site's (its policy may pin a version or turn updates off).
 */
export function versionStanding(
  connector: { online: boolean; agentVersion: string | null },
  approved: string | undefined,
): Standing {
  if (!approved) return { kind: 'no-approval' };
  if (!connector.agentVersion) return { kind: 'never-connected' };
  if (connector.agentVersion === approved) return { kind: 'on-approved' };
  return { kind: 'offered', approved, now: connector.online };
}

export function standingText(standing: Standing): string {
  switch (standing.kind) {
    case 'no-approval':
      return 'No version approved: it keeps its own';
    case 'never-connected':
      return 'Not connected yet';
    case 'on-approved':
      return 'Yes, on the approved version';
    case 'offered':
      return standing.now
        ? `No: offered ${standing.approved} now (unless its site pins a version or turned updates off)`
        : `No: offered ${standing.approved} when it connects`;
  }
}
