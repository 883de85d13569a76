import { randomBytes, X509Certificate } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { Locator, Page } from 'playwright-core';
import {
  startOidcProvider,
  type RunningProvider,
  webClient,
  serviceClient,
  authorizationCodeScheme,
} from '@vansales/test-kit';
import {
  checkBothWidths,
  connectConsole,
  registerApiInConsole,
  SCREENS,
  seriousViolations,
  startConsoleStand,
  unusedPort,
  type ConsoleStand,
} from './support/console-browser';
import { selfSignedCert } from './support/self-signed-cert';

// Issue 12 §2, the registration's authentication in a real browser: a form per security scheme type
// of the registered API, against the real local OpenID provider (oidc-provider). The authorization
// code flow runs in the provider's own pages, opened by "Connect"; the console reads the token status.
const TENANT = 'console-auth';
const WEB_SECRET = `web-${randomBytes(12).toString('hex')}`;
const WRONG_SECRET = `wrong-${randomBytes(12).toString('hex')}`;
const SVC_SECRET = `svc-${randomBytes(12).toString('hex')}`;
const BASIC_PASSWORD = `pw-${randomBytes(12).toString('hex')}`;

describe('the marketplace registration asks each security scheme for what its type needs (Chromium, oidc-provider)', () => {
  let stand: ConsoleStand;
  let provider: RunningProvider;
  let page: Page;
  let redirect: string;

  beforeAll(async () => {
    // The provider only redirects to a registered address: the gateway's callback, on a port chosen first.
    const gatewayPort = await unusedPort();
    redirect = `http://127.0.0.1:${gatewayPort}/v1/oauth/callback`;
    provider = await startOidcProvider([
      webClient('web', WEB_SECRET, redirect),
      serviceClient('svc', SVC_SECRET, 'read'),
    ]);
    stand = await startConsoleStand('console api auth', {
      VSC_GATEWAY_PORT: String(gatewayPort),
      VSC_OAUTH_REDIRECT_URL: redirect,
    });
    expect(stand.gatewayUrl).toBe(`http://127.0.0.1:${gatewayPort}`);
    await stand.platform.api('POST', '/v1/tenants', { id: TENANT, name: 'Console auth' });
    page = await stand.browser.newPage({ viewport: { width: 1280, height: 800 } });
    await connectConsole(page, stand);
  }, 20 * 60_000);

  afterAll(async () => {
    await stand?.close();
    await provider?.stop();
  });

  const spec = () => ({
    openapi: '3.1.0',
    info: { title: 'CRM', version: '1' },
    servers: [{ url: 'https://crm.example.com' }],
    paths: {
      '/contacts': {
        get: {
          operationId: 'listContacts',
          security: [{ user: ['read'] }],
          responses: { '200': { description: 'ok' } },
        },
      },
      '/export': {
        get: {
          operationId: 'exportAll',
          security: [{ service: ['read'] }],
          responses: { '200': { description: 'ok' } },
        },
      },
      '/status': {
        get: { operationId: 'status', security: [{ cert: [] }], responses: { '200': { description: 'ok' } } },
      },
      '/legacy': {
        get: { operationId: 'legacy', security: [{ login: [] }], responses: { '200': { description: 'ok' } } },
      },
    },
    components: {
      securitySchemes: {
        user: authorizationCodeScheme(provider, ['openid', 'offline_access', 'read']),
        service: {
          type: 'oauth2',
          flows: { clientCredentials: { tokenUrl: provider.endpoints.token, scopes: { read: '' } } },
        },
        cert: { type: 'mutualTLS' },
        login: { type: 'http', scheme: 'basic' },
      },
    },
  });

  /** One scheme's part of the form (its fieldset, named by its legend `<scheme>: …`). */
  const scheme = (name: string): Locator => page.getByRole('group', { name: new RegExp(`^${name}: `) });

  /**
   * "Connect" opens the provider's page in a new window: sign in (when the provider has no session
   * yet) and consent through oidc-provider's own pages until it sends the window to the gateway's callback.
   */
  const connectAtProvider = async (name: string, screenshot?: string) => {
    const opened = page.waitForEvent('popup');
    await scheme(name)
      .getByRole('button', { name: `Connect ${name}` })
      .click();
    const popup = await opened;
    await popup.waitForURL((url) => url.origin === provider.issuer, { timeout: 30_000 });
    for (let hop = 0; hop < 4 && !popup.url().startsWith(redirect); hop++) {
      const submit = popup.locator('button[type="submit"]');
      await Promise.race([
        submit.waitFor({ timeout: 30_000 }),
        popup.waitForURL((url) => url.href.startsWith(redirect), { timeout: 30_000 }),
      ]);
      if (popup.url().startsWith(redirect)) break;
      const login = popup.locator('input[name="login"]');
      if ((await login.count()) > 0) {
        await login.fill('alice');
        await popup.locator('input[name="password"]').fill('any');
        if (screenshot) await popup.screenshot({ path: join(SCREENS, screenshot) });
      }
      const navigated = popup.waitForEvent('framenavigated');
      await submit.click();
      await navigated;
      await popup.waitForLoadState('load');
    }
    await popup.waitForURL((url) => url.href.startsWith(redirect), { timeout: 30_000 });
    await popup.close();
  };

  const tokenStatus = (name: string) => page.getByTestId(`token-status-${name}`);

  it(
    'stores each scheme write-only, runs the authorization code flow in the browser, shows the token and the certificate',
    async () => {
      await page.goto(`${stand.consoleUrl}/tenants/${TENANT}/marketplace`);
      await page.getByRole('heading', { name: 'Marketplace' }).waitFor();
      await page.getByRole('button', { name: 'Add custom API aggregator' }).click();
      await registerApiInConsole(page, 'crm', 'https://crm.example.com', {
        name: 'crm.json',
        buffer: Buffer.from(JSON.stringify(spec())),
      });
      await page.getByTestId('api-result').getByText('crm version 1 registered').waitFor({ timeout: 60_000 });
      for (const name of ['user', 'service', 'cert', 'login']) await scheme(name).waitFor();
      expect(await seriousViolations(page)).toEqual([]);
      await page.screenshot({ path: join(SCREENS, 'auth-1-schemes.png'), fullPage: true });

      // Authorization code, first with a wrong client secret: the provider refuses the code exchange,
      // and the console says so in words.
      const user = scheme('user');
      expect(await user.getByLabel('Token URL').inputValue()).toBe(provider.endpoints.token);
      await user.getByLabel('Client ID').fill('web');
      await user.getByLabel('Client secret').fill(WRONG_SECRET);
      await user.getByRole('button', { name: 'Save user' }).click();
      await tokenStatus('user').getByText('Client web stored as crm.user. Not connected yet').waitFor();
      // Write-only: the fields are cleared once stored.
      expect(await user.getByLabel('Client secret').inputValue()).toBe('');
      expect(await user.getByLabel('Client ID').inputValue()).toBe('');
      await connectAtProvider('user', 'auth-2-provider-login.png');
      await tokenStatus('user')
        .getByText(
          /Refused: the code exchange of crm\.user was refused \(.*invalid_client\); check the client ID and secret/,
        )
        .waitFor({ timeout: 30_000 });
      await page.screenshot({ path: join(SCREENS, 'auth-3-wrong-client-secret.png'), fullPage: true });

      // The right secret, stored again (the refusal is cleared), then the flow completes: token stored.
      await user.getByLabel('Client ID').fill('web');
      await user.getByLabel('Client secret').fill(WEB_SECRET);
      await user.getByRole('button', { name: 'Save user' }).click();
      await tokenStatus('user').getByText('Not connected yet').waitFor();
      await connectAtProvider('user');
      await tokenStatus('user')
        .getByText(/Token stored; expires \d{4}-\d\d-\d\d \d\d:\d\d UTC, refreshed by the platform\./)
        .waitFor({ timeout: 30_000 });
      const stored = await stand.platform.api<{ oauth?: { status: string } }>(
        'GET',
        `/v1/tenants/${TENANT}/credentials/crm.user`,
      );
      expect(stored.body.oauth?.status).toBe('active');
      await page.screenshot({ path: join(SCREENS, 'auth-4-token-stored.png'), fullPage: true });

      // Client credentials: the token URL comes from the spec; the platform fetches tokens itself.
      const service = scheme('service');
      expect(await service.getByLabel('Token URL').inputValue()).toBe(provider.endpoints.token);
      await service.getByLabel('Client ID').fill('svc');
      await service.getByLabel('Client secret').fill(SVC_SECRET);
      await service.getByRole('button', { name: 'Save service' }).click();
      await service.getByRole('status').getByText('Saved as crm.service (version 1).').waitFor();
      await service.getByText('Client svc: the platform requests its tokens').waitFor();

      // A client certificate: pasted certificate, key as a file; the answer names the certificate.
      const { certFile, keyFile } = selfSignedCert('crm-client.example.com');
      const certPem = readFileSync(certFile, 'utf8');
      const keyPem = readFileSync(keyFile);
      const cert = scheme('cert');
      await cert.getByLabel('Certificate (paste)').fill(certPem);
      await cert
        .getByLabel('Private key file')
        .setInputFiles({ name: 'client.key', mimeType: 'text/plain', buffer: keyPem });
      await expectValue(cert.getByLabel('Private key (paste)'), keyPem.toString('utf8'));
      await cert.getByRole('button', { name: 'Save cert' }).click();
      const shown = page.getByTestId('certificate-cert');
      await shown.waitFor();
      const fingerprint = new X509Certificate(certPem).fingerprint256;
      expect(await shown.textContent()).toContain(fingerprint);
      expect(await shown.textContent()).toContain('CN=crm-client.example.com');
      expect(await cert.getByLabel('Private key (paste)').inputValue()).toBe('');
      expect(await cert.getByLabel('Certificate (paste)').inputValue()).toBe('');

      // HTTP basic, by keyboard: Enter in the password field saves it.
      const login = scheme('login');
      await login.getByLabel('Username').fill('erp');
      await login.getByLabel('Password').fill(BASIC_PASSWORD);
      await login.getByLabel('Password').press('Enter');
      await login.getByRole('status').getByText('Username: erp').waitFor();
      expect(await login.getByLabel('Password').inputValue()).toBe('');

      // No secret is in the page, and none came back from the gateway.
      const html = await page.content();
      for (const secret of [
        WEB_SECRET,
        WRONG_SECRET,
        SVC_SECRET,
        BASIC_PASSWORD,
        keyPem.toString('utf8').split('\n')[1]!,
      ])
        expect(html).not.toContain(secret);
      const listed = JSON.stringify((await stand.platform.api('GET', `/v1/tenants/${TENANT}/credentials`)).body);
      for (const secret of [WEB_SECRET, SVC_SECRET, BASIC_PASSWORD]) expect(listed).not.toContain(secret);
      await checkBothWidths(page, 'auth-5-all-stored');
    },
    10 * 60_000,
  );
});

/** Waits (10 s) until a field holds `value` (a file read into it arrives after the change event). */
async function expectValue(field: Locator, value: string): Promise<void> {
  const until = Date.now() + 10_000;
  while ((await field.inputValue()) !== value) {
    if (Date.now() > until)
      throw new Error(
        `the field never held the expected value (it holds ${(await field.inputValue()).length} characters)`,
      );
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
}
