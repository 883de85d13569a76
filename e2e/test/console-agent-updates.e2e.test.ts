import type { Page } from 'playwright-core';
import { createHash, randomBytes } from 'node:crypto';
import { agentExecutableName } from '@vansales/protocol';
import { publishStandInRelease, registerAgentRelease } from './support/agent-release-publish';
import { until } from './support/harness';
import { welcomedSocket } from './support/raw-agent-socket';
import {
  checkBothWidths,
  expectText,
  signInConsole,
  startConsoleStand,
  type ConsoleStand,
} from './support/console-browser';

const TENANT = 'agent-updates';
const OWNER = { email: 'owner@example.com', password: 'owner-password-0123' };
const VIEWER = { email: 'viewer@example.com', password: 'viewer-password-0123' };
const NEXT = '0.9.0-console.1';
const NOTES = 'Reads MariaDB 11 system tables.\nStarts faster behind a proxy.';

/**
 * Issue 13 §5 in a real browser: the operator publishes releases (REST, admin token), the owner
 * approves one in the "Agent updates" page and the gateway says so, a real agent's connector shows
 * whether it runs it, a viewer sees it all read-only, the owner withdraws it.
 */
describe('the console in a real browser: agent updates (approve, read-only, withdraw; Chromium, axe-core)', () => {
  let stand: ConsoleStand;
  let agentVersion: string;
  /** What the gateway sent the single-executable agent of the `edge` connector. */
  let edgeFrames: { type: string; [key: string]: unknown }[];
  const EDGE_VERSION = '0.8.0';

  beforeAll(async () => {
    // The raw socket below sends no heartbeat: a 10-minute interval keeps it connected however slow the run.
    stand = await startConsoleStand('console agent updates e2e', { VSC_AGENT_HEARTBEAT_MS: '600000' });
    const { platform } = stand;
    expect(
      (await platform.api('POST', '/v1/bootstrap', { ...OWNER, tenantId: TENANT, tenantName: 'Agent updates' })).status,
    ).toBe(201);
    expect((await platform.api('POST', `/v1/tenants/${TENANT}/members`, { ...VIEWER, role: 'viewer' })).status).toBe(
      201,
    );
    // A real agent (in this process) on the tenant's one connector: its hello gives the version the page shows.
    const created = await platform.api<{ id: string; apiKey: string }>('POST', `/v1/tenants/${TENANT}/connectors`, {
      name: 'warehouse',
    });
    expect(created.status).toBe(201);
    await platform.startAgent({ apiKey: created.body.apiKey }).welcomed;
    const listed = await platform.api<{ name: string; agentVersion: string | null }[]>(
      'GET',
      `/v1/tenants/${TENANT}/connectors`,
    );
    agentVersion = listed.body.find((c) => c.name === 'warehouse')!.agentVersion!;
    expect(agentVersion).toMatch(/^\d+\.\d+\.\d+/);
    // A second connector whose agent says what a single executable says: its platform (it can update itself).
    const edge = await platform.api<{ id: string; apiKey: string }>('POST', `/v1/tenants/${TENANT}/connectors`, {
      name: 'edge',
    });
    ({ frames: edgeFrames } = await welcomedSocket(platform, edge.body.apiKey, 'edge-host', {
      agentVersion: EDGE_VERSION,
      platform: 'linux-x64',
    }));
    // The operator: a newer release with notes, the agent's own version, and one with no executable yet.
    const next = await publishStandInRelease(platform, NEXT, { notes: NOTES, platforms: ['linux-x64', 'win-x64'] });
    // Registering it again is a no-op with or without its notes; other notes would change a release: 409.
    await registerAgentRelease(platform, NEXT, next);
    await registerAgentRelease(platform, NEXT, { ...next, notes: NOTES });
    const renoted = await platform.api('PUT', `/v1/agent-releases/${NEXT}`, {
      sums: next.sums,
      signature: next.signature.toString('base64'),
      notes: 'other notes',
    });
    expect(renoted.status).toBe(409);
    await publishStandInRelease(platform, agentVersion);
    await registerAgentRelease(platform, '0.9.1', {
      sums: `${createHash('sha256').update('not uploaded').digest('hex')}  ${agentExecutableName('linux-x64')}\n`,
      signature: randomBytes(64),
    });
  }, 20 * 60_000);

  afterAll(async () => {
    await stand?.close();
  });

  const gatewayApproval = async () =>
    (
      await stand.platform.api<{ approved: { version: string; approvedBy: string } | null }>(
        'GET',
        `/v1/tenants/${TENANT}/agent-version`,
      )
    ).body.approved;
  const signIn = async (person: typeof OWNER) => {
    const page = await stand.browser.newPage({ viewport: { width: 1280, height: 800 } });
    await signInConsole(page, stand, person);
    await page.waitForURL(/\/tenants$/);
    await page.goto(`${stand.consoleUrl}/tenants/${TENANT}`);
    await page
      .getByRole('navigation', { name: `Tenant ${TENANT}` })
      .getByRole('link', { name: 'Agent updates' })
      .click();
    await page.waitForURL(/\/agent-updates$/);
    await page.getByRole('heading', { name: `Agent updates of ${TENANT}` }).waitFor();
    return page;
  };
  const standing = (page: Page, connector = 'warehouse') =>
    page.getByTestId(`version-of-${connector}`).getByRole('cell').nth(4);
  const offers = () =>
    edgeFrames.filter((f) => f.type === 'update').map((f) => (f.offer as { version: string }).version);

  it(
    'lets the owner approve a published version (the gateway offers it), shows it read-only to a viewer, withdraws it',
    async () => {
      const owner = await signIn(OWNER);
      // Nothing approved yet: the page says agents keep their version, lists what could be approved.
      await expectText(owner.getByTestId('approved-version'), 'No version is approved');
      await expectText(owner.getByRole('region', { name: 'What approving a version does' }), 'verifies its signature');
      const next = owner.getByTestId(`release-${NEXT}`);
      await next.waitFor();
      expect(await next.getByRole('cell').nth(1).textContent()).toBe('linux-x64, win-x64');
      expect(await next.getByRole('cell').nth(3).textContent()).toBe(NOTES);
      // A registered release with no executable is not offered for approval.
      expect(await owner.getByTestId('release-0.9.1').count()).toBe(0);
      await expectText(owner.getByTestId('version-of-warehouse'), agentVersion);
      await expectText(standing(owner), 'No version approved');
      await expectText(owner.getByTestId('version-of-edge'), 'linux-x64');
      await expectText(standing(owner, 'edge'), 'No version approved');
      await checkBothWidths(owner, 'agent-updates-1-none-approved');

      // Approving asks once more, then the gateway holds it and the agent is offered it.
      await owner.getByRole('button', { name: `Approve ${NEXT}` }).click();
      await owner.getByRole('button', { name: `Confirm approving ${NEXT}` }).click();
      await owner.getByText(`Version ${NEXT} is approved`).waitFor();
      expect(await gatewayApproval()).toEqual(expect.objectContaining({ version: NEXT }));
      await expectText(owner.getByTestId('approved-version'), `${NEXT} is approved, by ${OWNER.email}`);
      // The single executable is offered it at once (an update frame on its socket); the agent built
      // from the sources announced no platform and is never offered one: the page says which is which.
      await until('the edge agent to be offered the approved version', () => offers().includes(NEXT));
      await expectText(standing(owner, 'edge'), `No: offered ${NEXT} now`);
      await expectText(standing(owner), 'cannot update itself');
      await expectText(next, 'Approved');
      await checkBothWidths(owner, 'agent-updates-2-approved');

      // Approving the version the agent runs: its connector is on it.
      await owner.getByRole('button', { name: `Approve ${agentVersion}` }).click();
      await owner.getByRole('button', { name: `Confirm approving ${agentVersion}` }).click();
      await owner.getByText(`Version ${agentVersion} is approved`).waitFor();
      expect((await gatewayApproval())?.version).toBe(agentVersion);
      await expectText(standing(owner), 'Yes, on the approved version');
      await until('the edge agent to be offered it too', () => offers().includes(agentVersion));
      await expectText(standing(owner, 'edge'), `No: offered ${agentVersion} now`);

      // A viewer reads the same, with nothing to press; the gateway refuses them too.
      const viewer = await signIn(VIEWER);
      await viewer
        .getByText('You can see which version is approved; owners and admins approve or withdraw it.')
        .waitFor();
      await expectText(viewer.getByTestId('approved-version'), agentVersion);
      await expectText(viewer.getByTestId(`release-${NEXT}`), 'not approved');
      expect(await viewer.getByRole('button', { name: /^(Approve|Withdraw)/ }).count()).toBe(0);
      await checkBothWidths(viewer, 'agent-updates-3-viewer');
      const session = await fetch(`${stand.gatewayUrl}/v1/sessions`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify(VIEWER),
      }).then((r) => r.json() as Promise<{ token: string }>);
      const asViewer = (method: string) =>
        fetch(`${stand.gatewayUrl}/v1/tenants/${TENANT}/agent-version`, {
          method,
          headers: { authorization: `Bearer ${session.token}`, 'content-type': 'application/json' },
          ...(method === 'PUT' ? { body: JSON.stringify({ version: NEXT }) } : {}),
        }).then((r) => r.status);
      expect(await asViewer('PUT')).toBe(403);
      expect(await asViewer('DELETE')).toBe(403);
      // What a member reads of the releases: never the sums or the signature.
      const listed = await fetch(`${stand.gatewayUrl}/v1/tenants/${TENANT}/agent-releases`, {
        headers: { authorization: `Bearer ${session.token}` },
      }).then((r) => r.json() as Promise<{ releases: Record<string, unknown>[] }>);
      expect(listed.releases.map((r) => Object.keys(r).sort())).toEqual([
        ['notes', 'platforms', 'publishedAt', 'version'],
        ['notes', 'platforms', 'publishedAt', 'version'],
      ]);
      await viewer.close();

      // Withdrawn: nothing approved at the gateway, the agent keeps its version.
      await owner.getByRole('button', { name: 'Withdraw the approval' }).click();
      await owner.getByText('The approval was withdrawn').waitFor();
      expect(await gatewayApproval()).toBeNull();
      await expectText(owner.getByTestId('approved-version'), 'No version is approved');
      await expectText(standing(owner), 'No version approved');
      await expectText(standing(owner, 'edge'), 'No version approved');
      await checkBothWidths(owner, 'agent-updates-4-withdrawn');
      await owner.close();
    },
    5 * 60_000,
  );
});
