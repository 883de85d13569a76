/** Where a connector's agent stands against the tenant's approved version, for the "Agent updates" page. */
export type Standing =
  | { kind: 'no-approval' }
  | { kind: 'never-connected' }
  | { kind: 'on-approved' }
  | { kind: 'not-updatable' }
  | { kind: 'no-executable'; approved: string; platform: string }
  | { kind: 'offered'; approved: string; now: boolean };

/**
 * Mirrors what the gateway does at each hello (and at once for connected agents when a version is
 * approved): it offers the approved version to an agent on another version that announced a platform
 * (a single executable; one built from the sources announces none and is never offered), when the
 * release has that platform's executable. Whether the agent switches is its site's (its policy may pin
 * a version or turn updates off).
 */
export function versionStanding(
  connector: { online: boolean; agentVersion: string | null; agentPlatform: string | null },
  approved: { version: string; platforms: readonly string[] } | undefined,
): Standing {
  if (!approved) return { kind: 'no-approval' };
  if (!connector.agentVersion) return { kind: 'never-connected' };
  if (connector.agentVersion === approved.version) return { kind: 'on-approved' };
  if (!connector.agentPlatform) return { kind: 'not-updatable' };
  if (!approved.platforms.includes(connector.agentPlatform))
    return { kind: 'no-executable', approved: approved.version, platform: connector.agentPlatform };
  return { kind: 'offered', approved: approved.version, now: connector.online };
}

export function standingText(standing: Standing): string {
  switch (standing.kind) {
    case 'no-approval':
      return 'No version approved: it keeps its own';
    case 'never-connected':
      return 'Not connected yet';
    case 'on-approved':
      return 'Yes, on the approved version';
    case 'not-updatable':
      return 'No: this agent runs from the sources and cannot update itself (only the single executable does)';
    case 'no-executable':
      return `No: ${standing.approved} has no ${standing.platform} executable, so it is not offered`;
    case 'offered':
      return standing.now
        ? `No: offered ${standing.approved} now (it switches unless its site pins a version or turned updates off)`
        : `No: offered ${standing.approved} when it connects`;
  }
}
