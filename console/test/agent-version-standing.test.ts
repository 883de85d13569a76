import { approverText } from '../src/agent-updates/approver';
import { standingText, versionStanding } from '../src/agent-updates/version-standing';

describe("a connector's standing against the tenant's approved agent version", () => {
  const online = { online: true, agentVersion: '0.2.0', agentPlatform: 'linux-x64' };
  const approved = (version: string, platforms = ['linux-x64']) => ({ version, platforms });

  it('says nothing is approved when the tenant approved none, whatever the agent runs', () => {
    expect(versionStanding(online, undefined)).toEqual({ kind: 'no-approval' });
    expect(standingText(versionStanding(online, undefined))).toBe('No version approved: it keeps its own');
  });

  it('is on the approved version when the last hello said that version', () => {
    expect(standingText(versionStanding(online, approved('0.2.0')))).toBe('Yes, on the approved version');
  });

  it('is offered the approved version now when online, when it connects when offline', () => {
    expect(versionStanding(online, approved('0.3.0'))).toEqual({ kind: 'offered', approved: '0.3.0', now: true });
    expect(standingText(versionStanding(online, approved('0.3.0')))).toMatch(/^No: offered 0\.3\.0 now/);
    expect(standingText(versionStanding({ ...online, online: false }, approved('0.3.0')))).toBe(
      'No: offered 0.3.0 when it connects',
    );
  });

  it('is not offered anything when it announced no platform (built from the sources) or the release lacks its platform', () => {
    expect(versionStanding({ ...online, agentPlatform: null }, approved('0.3.0'))).toEqual({ kind: 'not-updatable' });
    expect(standingText(versionStanding({ ...online, agentPlatform: 'win-x64' }, approved('0.3.0')))).toBe(
      'No: 0.3.0 has no win-x64 executable, so it is not offered',
    );
  });

  it('has no version before its agent first connected', () => {
    const never = { online: false, agentVersion: null, agentPlatform: null };
    expect(standingText(versionStanding(never, approved('0.3.0')))).toBe('Not connected yet');
  });
});

describe('who approved the version, in words', () => {
  const members = [{ userId: 'u-1', email: 'owner@example.com' }];
  it('names a member by email, a former member, a tenant token and any other actor as recorded', () => {
    expect(approverText('person:u-1', members)).toBe('owner@example.com');
    expect(approverText('person:u-2', members)).toBe('a person who is no longer a member');
    expect(approverText('token:abc', members)).toBe('the tenant token abc');
    expect(approverText('admin', members)).toBe('admin');
  });
});
