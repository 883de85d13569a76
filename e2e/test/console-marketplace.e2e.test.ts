import type { ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { chmodSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';
import { createConnection } from 'mysql2/promise';
import type { Page } from 'playwright-core';
import {
  checkBothWidths,
  connectConsole,
  registerApiInConsole,
  SCREENS,
  seriousViolations,
  startConsoleStand,
  type ConsoleStand,
} from './support/console-browser';
import { sakilaReader, services, until } from './support/harness';
import { exitOf, runShown, shownCommands } from './support/site-command';

const TENANT = 'console-market';
const PETSTORE = join(__dirname, '..', '..', '..', 'shared', 'data', 'openapi', 'petstore-3.0.yaml');

describe('the console marketplace and connector pages in a real browser (Chromium, a real gateway and agent)', () => {
  let stand: ConsoleStand;
  let page: Page;
  const scratch = `vsc_cm_${randomBytes(4).toString('hex')}`;
  const siteDir = mkdtempSync(join(tmpdir(), 'vsc-cm-site-'));
  let agent: ChildProcess | undefined;
  let specServer: Server;

  beforeAll(async () => {
    // The spec-by-URL case fetches from a server on this machine: private addresses allowed for the test.
    stand = await startConsoleStand('console marketplace', { VSC_SPEC_FETCH_ALLOW_PRIVATE: 'true' });
    specServer = createServer((_req, res) => {
      res.writeHead(200, { 'content-type': 'application/yaml' });
      res.end(readFileSync(PETSTORE));
    }).listen(0, '127.0.0.1');
    await new Promise((resolve) => specServer.once('listening', resolve));
    await stand.platform.api('POST', '/v1/tenants', { id: TENANT, name: 'Console marketplace' });
    page = await stand.browser.newPage({ viewport: { width: 1280, height: 800 } });
    await connectConsole(page, stand);
  }, 20 * 60_000);

  afterAll(async () => {
    agent?.kill();
    specServer?.close();
    await stand?.close();
    rmSync(siteDir, { recursive: true, force: true });
    const conn = await createConnection(services.mariadb);
    await conn.query(`DROP DATABASE IF EXISTS ${scratch}`);
    await conn.end();
  });

  const openMarketplace = async () => {
    await page.goto(`${stand.consoleUrl}/tenants/${TENANT}/marketplace`);
    await page.getByRole('heading', { name: 'Marketplace' }).waitFor();
  };

  const registerApi = (apiId: string, file: { name: string; buffer: Buffer }) =>
    registerApiInConsole(page, apiId, 'https://petstore3.swagger.io/api/v3', file);

  it(
    'registers the petstore spec and lists its operations; a bad spec shows its problems; an update shows what broke',
    async () => {
      await openMarketplace();
      expect(await seriousViolations(page)).toEqual([]);
      await page.screenshot({ path: join(SCREENS, 'market-1-marketplace.png'), fullPage: true });
      await page.getByRole('button', { name: 'Add custom API aggregator' }).click();

      const petstore = readFileSync(PETSTORE);
      await registerApi('petstore', { name: 'petstore-3.0.yaml', buffer: petstore });
      const operations = page.getByTestId('api-operations');
      await operations.waitFor({ timeout: 60_000 });
      const listed = await operations.textContent();
      for (const key of ['findPetsByStatus', 'getPetById', 'getInventory', 'loginUser']) expect(listed).toContain(key);
      expect(await page.getByTestId('api-result').textContent()).toContain('petstore version 1 registered');
      // Its api_key scheme can be given a secret (the cloud calls an internet API).
      await page.getByLabel(/api_key/).waitFor();
      expect(await seriousViolations(page)).toEqual([]);
      await page.screenshot({ path: join(SCREENS, 'market-2-api-registered.png'), fullPage: true });

      // The same document by URL: the gateway fetches it through its egress guard (a name, never an IP literal).
      const form = page.getByRole('form', { name: 'Add custom API aggregator' });
      await form.getByLabel('API id').fill('petstore-url');
      await form.getByLabel('From a URL').check();
      const { port } = specServer.address() as AddressInfo;
      await form.getByLabel('Specification URL').fill(`http://localhost:${port}/petstore-3.0.yaml`);
      await form.getByRole('button', { name: 'Validate and register' }).click();
      await page.getByTestId('api-result').getByText('petstore-url version 1 registered').waitFor({ timeout: 60_000 });
      expect(await page.getByTestId('api-operations').textContent()).toContain('findPetsByStatus');
      await form.getByLabel('Upload a file').check();

      // A document with a path parameter it never declares: refused, the problem named where it is.
      const broken = [
        'openapi: 3.0.3',
        'info: { title: broken, version: "1" }',
        'paths:',
        '  /a/{id}:',
        '    get:',
        '      responses: {}',
      ].join('\n');
      await registerApi('broken', { name: 'broken.yaml', buffer: Buffer.from(broken) });
      const refusal = page.getByTestId('spec-error');
      await refusal.waitFor({ timeout: 60_000 });
      const refused = await refusal.textContent();
      expect(refused).toContain('SPEC_INVALID');
      expect(refused).toContain('/paths/~1a~1{id}/get/parameters');
      expect(await page.getByTestId('api-result').count()).toBe(0);
      expect(await seriousViolations(page)).toEqual([]);
      await page.screenshot({ path: join(SCREENS, 'market-3-bad-spec.png'), fullPage: true });

      // Version 2 without /store/inventory: the removed operation is a breaking change.
      const text = petstore.toString('utf8');
      const cut = text.slice(0, text.indexOf('  /store/inventory:')) + text.slice(text.indexOf('  /store/order:'));
      await registerApi('petstore', { name: 'petstore-v2.yaml', buffer: Buffer.from(cut) });
      const changes = page.getByTestId('api-changes');
      await changes.waitFor({ timeout: 60_000 });
      const changed = await changes.textContent();
      expect(changed).toContain('Changes from version 1: BREAKING');
      expect(changed).toContain('/store/inventory');
      expect(changed).toContain('No definition calls an operation of this API yet.');
      expect(await page.getByTestId('api-operations').textContent()).not.toContain('getInventory');
      await page.screenshot({ path: join(SCREENS, 'market-4-api-update.png'), fullPage: true });
    },
    10 * 60_000,
  );

  it(
    'installs a site aggregator: runs the shown command, sees the agent online, browses Sakila, diffs, rotates and revokes keys',
    async () => {
      const reader = await sakilaReader();
      const conn = await createConnection(services.mariadb);
      await conn.query(`CREATE DATABASE ${scratch}`);
      await conn.query(`CREATE TABLE ${scratch}.orders (id int PRIMARY KEY, total decimal(10,2) NOT NULL)`);
      await conn.query(`GRANT SELECT ON ${scratch}.* TO '${reader.user}'@'127.0.0.1'`);
      await conn.end();

      await openMarketplace();
      await page.getByRole('button', { name: 'Install MySQL / MariaDB' }).click();
      const form = page.getByRole('form', { name: 'Install MySQL / MariaDB' });
      await form.getByLabel('Connector name').fill('sakila-site');
      await form.getByRole('button', { name: 'Add another database' }).click();
      for (const [index, name, database] of [
        [1, 'sakila', 'sakila'],
        [2, 'scratch', scratch],
      ] as const) {
        const db = form.getByRole('group', { name: `Database ${index}` });
        await db.getByLabel('Name in the agent').fill(name);
        await db.getByLabel('Host (as the site sees it)').fill('127.0.0.1');
        await db.getByLabel('Port').fill(String(services.mariadb.port));
        await db.getByLabel('Login').fill(reader.user);
        await db.getByLabel('Database', { exact: true }).fill(database);
      }
      await form.getByLabel('Install folder on the site').fill(siteDir);
      // Nothing the form holds is a password: there is no field for one.
      expect(await page.locator('input[type=password]').count()).toBe(0);
      await form.getByRole('button', { name: 'Create connector and show the command' }).click();

      const shown = shownCommands((await page.getByTestId('agent-command').textContent())!);
      expect(await page.getByTestId('install-status').textContent()).toContain('Waiting for the agent');
      await page.screenshot({ path: join(SCREENS, 'market-5-site-command.png'), fullPage: true });
      expect(shown.lines.join('\n')).not.toContain(reader.password);
      const apiKey = shown.apiKey;
      expect(shown.lines.filter((l) => l.startsWith('read -rs '))).toEqual([
        'read -rs SAKILA_PASSWORD && export SAKILA_PASSWORD',
        'read -rs SCRATCH_PASSWORD && export SCRATCH_PASSWORD',
      ]);
      const env = { VSC_API_KEY: apiKey, SAKILA_PASSWORD: reader.password, SCRATCH_PASSWORD: reader.password };
      const init = await exitOf(runShown(shown.init, env));
      expect(init).toMatchObject({ code: 0 });
      // A condition the agent's doctor reports: its folder (configuration, vault) listable by others.
      chmodSync(siteDir, 0o755);
      // The site keeps the secrets in its vault: `run` needs no environment of its own.
      agent = runShown(shown.run, {});
      const agentExit = exitOf(agent);

      const status = page.getByTestId('install-status');
      await status.getByText('Online', { exact: true }).waitFor({ timeout: 60_000 });
      expect(await status.textContent()).toContain('databases: sakila, scratch');
      await checkBothWidths(page, 'market-6-site-online');

      // Discovery runs when the agent connects: wait for both databases' first versions.
      const connectorId = new URL((await status.getByRole('link').getAttribute('href'))!, stand.consoleUrl).pathname
        .split('/')
        .pop()!;
      const versions = (db: string) =>
        stand.platform.api<unknown[]>('GET', `/v1/tenants/${TENANT}/connectors/${connectorId}/schemas/${db}/versions`);
      await until(
        'both databases discovered',
        async () => (await versions('sakila')).body.length > 0 && (await versions('scratch')).body.length > 0,
      );

      await status.getByRole('link', { name: 'Open the connector' }).click();
      await page.waitForURL(new RegExp(`/connectors/${connectorId}$`));
      const facts = page.getByTestId('connector-status');
      await facts.getByText('Online', { exact: true }).waitFor({ timeout: 30_000 });
      const factText = await facts.textContent();
      expect(factText).toContain('Agent version0.1.0');
      expect(factText).toContain('Last seennow');
      expect(factText).toContain('Databasessakila, scratch');
      await page.getByText('None: no machine but the enrolled one has used its keys.').waitFor();

      // The agent's doctor warning, reported when it connected: what is wrong and what to do on the site.
      const doctor = page.getByTestId('doctor');
      await doctor.getByText('state.permissions', { exact: true }).waitFor({ timeout: 30_000 });
      const doctorText = await doctor.textContent();
      expect(doctorText).toContain('Warning');
      expect(doctorText).toContain(`the agent's folder ${siteDir} (configuration, vault, audit chain) can be listed`);
      expect(doctorText).toContain(`Run: chmod 700 ${siteDir}`);
      // The reader login is read-only: no database warning.
      expect(doctorText).not.toContain('database.can-write');

      // Sakila as discovered: 16 tables and 7 views, version 1.
      const browser = page.getByTestId('schema-browser');
      await browser.getByTestId('schema-summary').getByText('sakila version 1: 16 tables, 7 views').waitFor();
      // A table opens to its columns.
      await browser.locator('summary', { hasText: /^film_actor / }).click();
      await browser.locator('details details[open] code', { hasText: 'actor_id' }).waitFor();

      // The site's policy as the agent describes it: init wrote none, so the cloud may only read.
      await page.getByRole('button', { name: 'Ask the agent for its policy' }).click();
      await page.getByTestId('site-policy').getByText('none: the cloud can only read').waitFor({ timeout: 60_000 });
      await checkBothWidths(page, 'market-7-connector');

      // A structure change on the site becomes version 2 of scratch, and the diff names it.
      const alter = await createConnection(services.mariadb);
      await alter.query(`ALTER TABLE ${scratch}.orders ADD COLUMN placed_at datetime NULL`);
      await alter.end();
      await browser.getByLabel(/^Database/).selectOption('scratch');
      await browser.getByRole('button', { name: 'Discover again' }).click();
      await browser.getByText('Discovered: version 2 is new.').waitFor({ timeout: 60_000 });
      await browser.getByLabel('Compare from version').selectOption('1');
      await browser.getByRole('button', { name: 'Show the differences to version 2' }).click();
      const diff = browser.getByTestId('schema-diff');
      await diff.waitFor();
      expect(await diff.textContent()).toContain('From version 1 to 2: 1 change');
      expect(await diff.textContent()).toContain(`column added ${scratch}.orders.placed_at`);
      await page.screenshot({ path: join(SCREENS, 'market-8-schema-diff.png'), fullPage: true });

      // Rotate: a new key, shown once; then revoke the old one (the agent's): it is dropped and says so.
      const keysTable = page.getByTestId('keys-table');
      const oldKeyId = apiKey!.split('_')[2]!.slice(0, 12);
      // The agent's key: used (it opened this session) and bound to the site's machine.
      const oldRow = keysTable.locator(`tr[data-key-id="${oldKeyId}"]`);
      await oldRow.waitFor();
      expect(await oldRow.locator('td[data-label="Last used"]').textContent()).not.toBe('never');
      expect(await oldRow.locator('td[data-label="Machine"] code').count()).toBe(1);
      await page.getByRole('button', { name: 'Issue a new key (rotate)' }).click();
      const newKey = page.getByTestId('new-key');
      await newKey.waitFor();
      const rotated = (await newKey.locator('pre').textContent())!;
      expect(rotated).toMatch(/^vmc_/);
      expect(rotated).not.toBe(apiKey);
      const newKeyId = rotated.split('_')[2]!.slice(0, 12);
      await keysTable.locator(`tr[data-key-id="${newKeyId}"]`).waitFor();
      await page.screenshot({ path: join(SCREENS, 'market-9-key-rotated.png'), fullPage: true });
      await page.getByRole('button', { name: `Revoke key ${oldKeyId}…` }).click();
      // Asked first: nothing is revoked until the confirmation.
      expect(await keysTable.textContent()).not.toContain('Revoked');
      await page.getByRole('button', { name: `Yes, revoke key ${oldKeyId}` }).click();
      await page.getByText(`Revoked key ${oldKeyId}; the agent using it was disconnected.`).waitFor();
      await facts.getByText('Offline', { exact: true }).waitFor({ timeout: 30_000 });
      await oldRow.getByText(/^Revoked /).waitFor();
      expect(await keysTable.locator(`tr[data-key-id="${newKeyId}"]`).textContent()).not.toContain('Revoked ');
      expect(await keysTable.textContent()).toContain('1 live key');
      await checkBothWidths(page, 'market-10-key-revoked');
      const keys = await stand.platform.api<{ id: string; revokedAt: string | null }[]>(
        'GET',
        `/v1/tenants/${TENANT}/connectors/${connectorId}/keys`,
      );
      expect(keys.body.map((k) => [k.id, k.revokedAt !== null])).toEqual([
        [oldKeyId, true],
        [newKeyId, false],
      ]);
      // A revoked key stops the agent with a message instead of retrying forever.
      const exited = await agentExit;
      expect(exited.code).not.toBe(0);
      agent = undefined;

      // The other key keeps working: a second machine's agent on it comes online.
      const second = stand.platform.startAgent({ apiKey: rotated, machineId: 'second-site-machine' });
      await second.welcomed;
      await facts.getByText('Online', { exact: true }).waitFor({ timeout: 30_000 });
      // The same key from a third machine is refused, and the refusal names the key.
      const thief = stand.platform.startAgent({ apiKey: rotated, machineId: 'thief-machine' });
      await expect(thief.agent.done).resolves.toMatchObject({ code: 'key-bound-elsewhere' });
      const refusals = page.getByTestId('refusals');
      await refusals.getByText(`${newKeyId}…`).waitFor({ timeout: 30_000 });
      expect(await refusals.textContent()).toContain('proof not signed by the enrolled key pair');
      await checkBothWidths(page, 'market-11-refusal');

      // Then every key that is left: the second machine's agent is dropped too.
      await page.getByRole('button', { name: 'Revoke every key…' }).click();
      await page.getByRole('button', { name: 'Yes, revoke every key' }).click();
      await page.getByText('Revoked 1 key; the agent was disconnected.').waitFor();
      await expect(second.agent.done).resolves.toMatchObject({ code: 'key-revoked' });
      await facts.getByText('Offline', { exact: true }).waitFor({ timeout: 30_000 });
      // Last seen is now when it left, no longer "now" nor "never".
      expect(await facts.textContent()).not.toMatch(/Last seen(now|never)/);
      // With its agent gone the policy cannot be asked: the button says so, and the route answers 409 at once.
      expect(await page.getByRole('button', { name: 'Ask the agent for its policy' }).isDisabled()).toBe(true);
      const policy = await stand.platform.api<{ error: { message: string } }>(
        'GET',
        `/v1/tenants/${TENANT}/connectors/${connectorId}/policy`,
      );
      expect(policy.status).toBe(409);
      expect(policy.body.error.message).toContain('the agent of connector sakila-site is offline');
    },
    10 * 60_000,
  );
});
