import { join } from 'node:path';
import type { Browser, Page } from 'playwright-core';
import { startOidcProvider, type RunningProvider, webClient } from '@vansales/test-kit';
import {
  checkBothWidths,
  launchChromium,
  SCREENS,
  serveConsole,
  signInConsole,
  untilWayInReady,
} from './support/console-browser';
import { startPlatform, type Platform } from './support/harness';

/** Issue 12 §2 in a real browser: sign in, tenants, members and roles, tokens, sign out, single sign-on. */
describe('the console in a real browser: people (sign in, tenant switcher, members, tokens; Chromium, axe-core)', () => {
  const OWNER = { email: 'owner@example.com', password: 'owner-password-0123' };
  const FIRST = 'people-a';
  const SECOND = 'people-b';
  let provider: RunningProvider;
  let platform: Platform;
  let consoleServer: { url: string; stop(): void };
  let browser: Browser;
  let gatewayUrl: string;

  beforeAll(async () => {
    const log = (line: string) => process.stdout.write(`[console people e2e] ${line}\n`);
    consoleServer = await serveConsole(log);
    // The provider sends people back to the console's /sso page, which finishes with the gateway.
    const redirectUri = `${consoleServer.url}/sso`;
    provider = await startOidcProvider([
      webClient('console-sso', 'console-sso-secret-0123456789abcdef', redirectUri, { refresh: false }),
    ]);
    platform = await startPlatform({
      gateway: {
        VSC_CONSOLE_ORIGINS: consoleServer.url,
        VSC_SSO_PROVIDERS: JSON.stringify([
          {
            name: 'corp',
            issuer: provider.issuer,
            clientId: 'console-sso',
            clientSecret: 'console-sso-secret-0123456789abcdef',
            redirectUri,
            allowedDomains: ['example.com'],
          },
        ]),
      },
    });
    gatewayUrl = new URL(platform.gatewayWsUrl.replace(/^ws/, 'http')).origin;
    browser = await launchChromium(log);
    // The first owner, made the way an operator does at bootstrap: the admin token's one route.
    const boot = await platform.api('POST', '/v1/bootstrap', { ...OWNER, tenantId: FIRST, tenantName: 'People A' });
    expect(boot.status).toBe(201);
  }, 20 * 60_000);

  afterAll(async () => {
    await browser?.close();
    consoleServer?.stop();
    await platform?.close();
    await provider?.stop();
  });

  /** A call to the gateway over real HTTP with a token taken from the browser. */
  const status = (path: string, token: string) =>
    fetch(`${gatewayUrl}${path}`, { headers: { authorization: `Bearer ${token}` } }).then((r) => r.status);
  /** The token the console keeps in the tab (runs in the page: no DOM types in this project). */
  const sessionToken = (page: Page) =>
    page.evaluate(() => {
      const storage = (globalThis as unknown as { sessionStorage: { getItem(key: string): string | null } })
        .sessionStorage;
      return (JSON.parse(storage.getItem('vsc.console.session') ?? '{}') as { token?: string }).token;
    });

  const signIn = (page: Page, password: string, email = OWNER.email) =>
    signInConsole(page, { consoleUrl: consoleServer.url, gatewayUrl }, { email, password });

  it(
    'signs in, switches tenants, adds a member and changes their role, makes and revokes a token, signs out',
    async () => {
      const context = await browser.newContext({ viewport: { width: 1280, height: 800 } });
      const page = await context.newPage();

      // A wrong password: a sentence the person can act on, and still on the sign-in page.
      await signIn(page, 'not-the-password-at-all');
      await page.getByRole('alert').getByText('The email address or the password is wrong').waitFor();
      // The gateway's providers are offered as buttons.
      await page.getByRole('button', { name: 'Sign in with corp' }).waitFor();
      await checkBothWidths(page, 'people-1-sign-in-refused');

      await signIn(page, OWNER.password);
      await page.waitForURL(/\/tenants$/);
      await page.getByRole('list', { name: 'Your tenants' }).getByRole('link', { name: FIRST }).waitFor();
      const session = await sessionToken(page);
      expect(session).toBeTruthy();

      // A second tenant, made here: its creator is its owner, and the switcher lists both.
      await page.getByLabel('Id of the new tenant').fill(SECOND);
      await page.getByLabel('Name').fill('People B');
      await page.getByRole('button', { name: 'Create tenant' }).click();
      await page.waitForURL(new RegExp(`/tenants/${SECOND}$`));
      const switcher = page.getByLabel('Tenant', { exact: true });
      await switcher.locator(`option[value="${FIRST}"]`).waitFor({ state: 'attached' });
      await switcher.locator(`option[value="${SECOND}"]`).waitFor({ state: 'attached' });
      await switcher.selectOption(FIRST);
      await page.waitForURL(new RegExp(`/tenants/${FIRST}$`));
      await checkBothWidths(page, 'people-2-tenant');

      // Members: add a new person, change their role; the last owner's refusal is shown.
      await page
        .getByRole('navigation', { name: `Tenant ${FIRST}` })
        .getByRole('link', { name: 'Members' })
        .click();
      await page.waitForURL(/\/members$/);
      await page.getByLabel('Their email address').fill('bob@example.com');
      await page.getByLabel('Their name').fill('Bob');
      await page.getByLabel('Their role').selectOption('viewer');
      await page.getByLabel('Initial password').fill('bob-initial-password-1');
      await page.getByRole('button', { name: 'Add member' }).click();
      await page.getByText('bob@example.com was added as viewer.').waitFor();
      await page.getByLabel('Role of bob@example.com').selectOption('operator');
      await page.getByText('bob@example.com is now operator.').waitFor();
      const members = await platform.api<{ members: { email: string; role: string }[] }>(
        'GET',
        `/v1/tenants/${FIRST}/members`,
      );
      expect(members.body.members.find((m) => m.email === 'bob@example.com')?.role).toBe('operator');
      await page.getByLabel(`Role of ${OWNER.email}`).selectOption('admin');
      await page.getByRole('alert').getByText("this is the tenant's last owner").waitFor();
      expect(await page.getByLabel(`Role of ${OWNER.email}`).inputValue()).toBe('owner');
      await checkBothWidths(page, 'people-3-members');

      // Tokens: the secret once, with a warning; it works; revoked, the gateway answers 401.
      await page
        .getByRole('navigation', { name: `Tenant ${FIRST}` })
        .getByRole('link', { name: 'Tokens' })
        .click();
      await page.waitForURL(/\/tokens$/);
      await page.getByLabel('Token name').fill('nightly-export');
      await page.getByLabel('Token role').selectOption('viewer');
      await page.getByLabel('Expires in (days)').fill('7');
      await page.getByRole('button', { name: 'Create token' }).click();
      await page.getByText('it is shown only this once').waitFor();
      await page.getByRole('button', { name: 'Copy token' }).waitFor();
      const secret = await page.getByLabel('Token secret').inputValue();
      expect(secret.length).toBeGreaterThan(20);
      expect(await status(`/v1/tenants/${FIRST}/connectors`, secret)).toBe(200);
      await checkBothWidths(page, 'people-4-token-shown-once');
      // Gone once dismissed: the list shows no secret.
      await page.getByRole('button', { name: 'I have copied it' }).click();
      expect(await page.content()).not.toContain(secret);
      await page.getByRole('button', { name: 'Revoke nightly-export' }).click();
      await page
        .getByTestId('token-nightly-export')
        .getByText(/^Revoked/)
        .waitFor();
      expect(await status(`/v1/tenants/${FIRST}/connectors`, secret)).toBe(401);
      await checkBothWidths(page, 'people-5-tokens');

      // No cookie from the console: the session lives in the tab's sessionStorage.
      expect(await context.cookies()).toEqual([]);

      // Sign out: back on the sign-in page, and the session token is dead at the gateway.
      expect(await status('/v1/me', session!)).toBe(200);
      await page.getByRole('button', { name: 'Sign out' }).click();
      await page.waitForURL((url) => url.pathname === '/');
      await page.getByRole('heading', { name: 'Sign in' }).waitFor();
      expect(await sessionToken(page)).toBeUndefined();
      expect(await status('/v1/me', session!)).toBe(401);

      // The member added above signs in with their initial password: an operator reads members, changes nothing.
      await signIn(page, 'bob-initial-password-1', 'bob@example.com');
      await page.waitForURL(/\/tenants$/);
      await page.goto(`${consoleServer.url}/tenants/${FIRST}/members`);
      await page.getByText('You can see the members; owners and admins change them.').waitFor();
      await page.getByTestId(`member-${OWNER.email}`).waitFor();
      expect(await page.getByRole('button', { name: 'Add member' }).count()).toBe(0);
      expect(await page.getByRole('combobox', { name: /^Role of/ }).count()).toBe(0);
      await context.close();
    },
    10 * 60_000,
  );

  it(
    'signs in through single sign-on: the provider sends the person back to the console, which finishes with the gateway',
    async () => {
      // A context of its own: the provider's login cookies are no business of the first test's check.
      const context = await browser.newContext({ viewport: { width: 1280, height: 800 } });
      const page = await context.newPage();
      const startAtProvider = async () => {
        await page.goto(consoleServer.url);
        await untilWayInReady(page);
        await page.getByLabel('Gateway URL').fill(gatewayUrl);
        await page.getByRole('button', { name: 'Sign in with corp' }).click();
        await page.waitForURL((url) => url.origin === provider.issuer);
      };
      // A forged return (a state the gateway never issued) is refused in words, and nobody is signed in.
      await startAtProvider();
      await page.goto(`${consoleServer.url}/sso?state=forged-state&code=forged-code`);
      await page
        .getByRole('alert')
        .getByText(/^Single sign-on was refused: .+ Start again from the sign-in page\.$/)
        .waitFor();
      expect(page.url()).toBe(`${consoleServer.url}/sso`);
      expect(await sessionToken(page)).toBeUndefined();

      await startAtProvider();
      // oidc-provider's own login and consent pages (its development interactions).
      await page.locator('input[name="login"]').fill(OWNER.email);
      await page.locator('input[name="password"]').fill('any');
      await page.locator('button[type="submit"]').click();
      await page.locator('button[type="submit"]').click();
      await page.waitForURL(/\/tenants$/);
      // The code and state left the address bar and history; the owner's tenants are listed.
      expect(page.url()).not.toContain('code=');
      await page.getByRole('list', { name: 'Your tenants' }).getByRole('link', { name: FIRST }).waitFor();
      await page.screenshot({ path: join(SCREENS, 'people-6-sso-signed-in.png') });
      await context.close();
    },
    5 * 60_000,
  );

  it(
    'after five wrong passwords for an account, says sign-in is paused and for how long',
    async () => {
      const carol = { email: 'carol@example.com', password: 'carol-password-0123' };
      expect((await platform.api('POST', `/v1/tenants/${FIRST}/members`, { ...carol, role: 'viewer' })).status).toBe(
        201,
      );
      const page = await browser.newPage({ viewport: { width: 1280, height: 800 } });
      // The gateway's account limit is 5 failures in 15 minutes; each attempt's answer is awaited.
      const statuses: number[] = [];
      for (let attempt = 0; attempt < 6; attempt++) {
        const answer = page.waitForResponse((r) => r.url().endsWith('/v1/sessions') && r.request().method() === 'POST');
        await signIn(page, `wrong-password-${attempt}`, carol.email);
        statuses.push((await answer).status());
      }
      expect(statuses).toEqual([401, 401, 401, 401, 401, 429]);
      await page
        .getByRole('alert')
        .getByText(/Signing in is paused after too many failed attempts: try again in about \d+ minutes\./)
        .waitFor();
      await checkBothWidths(page, 'people-7-sign-in-locked');
      await page.close();
    },
    5 * 60_000,
  );
});
