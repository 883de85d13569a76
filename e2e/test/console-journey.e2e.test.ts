import type { ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Client } from 'pg';
import type { Page } from 'playwright-core';
import { throwawayPostgresDatabase } from '@vansales/test-kit';
import {
  checkBothWidths,
  connectSteps,
  expectText,
  SCREENS,
  seriousViolations,
  signInConsole,
  startConsoleStand,
  type ConsoleStand,
} from './support/console-browser';
import { pgConfig, sakilaReader, services, until } from './support/harness';
import { exitOf, runShown, shownCommands } from './support/site-command';

/**
 * Issue 12 §3, the whole journey in one browser session, on real services and the REAL interpreter
 * (the harness's cloud worker runs the definition workflow; no stand-in): a person signs in, installs
 * a MariaDB site aggregator, runs the shown agent command, sees it online, browses Sakila, draws
 * Sakila film → JSONata map → a cloud PostgreSQL table, validates, publishes, runs, watches it finish
 * and the rows arrive; breaks the mapping (the error on the node); then a destination problem fails
 * a run, which is retried from its failed step in the runs page and finishes.
 */
const TENANT = 'journey';
const OWNER = { email: 'owner@journey.example', password: 'journey-owner-password-0123' };
const DEFINITION = 'films-to-warehouse';
/** The warehouse table the definition writes (made by its first run: create if missing). */
const TABLE = 'film_titles';

describe('the browser journey of issue 12 §3: sign in to rows, a broken mapping, a failed run retried', () => {
  let stand: ConsoleStand;
  let warehouse: { name: string; url: string; drop: () => Promise<void> };
  const siteDir = mkdtempSync(join(tmpdir(), 'vsc-journey-site-'));
  let agent: ChildProcess | undefined;
  let ownerId: string;

  /** A statement on the cloud PostgreSQL the definition writes to (as the warehouse's owner would run it). */
  const sql = async <T extends Record<string, unknown>>(text: string): Promise<T[]> => {
    const client = new Client({ connectionString: warehouse.url });
    await client.connect();
    try {
      return (await client.query(text)).rows as T[];
    } finally {
      await client.end();
    }
  };

  beforeAll(async () => {
    stand = await startConsoleStand('console journey');
    warehouse = await throwawayPostgresDatabase('vsc_journey');
    // The cloud PostgreSQL the tenant's definitions may write to, as VSC_CLOUD_DATABASES_FILE says in production.
    stand.platform.setCloudDatabases({ [TENANT]: { warehouse: pgConfig(warehouse.url, warehouse.name) } });
    // The first owner, made the way an operator does at bootstrap (the admin token's one route); from
    // here on the browser acts as that person, never with the admin token.
    const boot = await stand.platform.api<{ user: { id: string } }>('POST', '/v1/bootstrap', {
      ...OWNER,
      tenantId: TENANT,
      tenantName: 'Journey',
    });
    expect(boot.status).toBe(201);
    ownerId = boot.body.user.id;
  }, 20 * 60_000);

  afterAll(async () => {
    agent?.kill();
    await stand?.close();
    await warehouse?.drop();
    rmSync(siteDir, { recursive: true, force: true });
  });

  it(
    'signs in, installs a site, browses Sakila, draws, validates, publishes and runs Sakila → cloud PostgreSQL, sees the rows; a bad mapping on its node; a failed run retried from its step',
    async () => {
      const { consoleUrl } = stand;
      const page = await stand.browser.newPage({ viewport: { width: 1280, height: 800 } });

      // 1. Sign in as a person.
      await signInConsole(page, stand, OWNER);
      await page.waitForURL(/\/tenants$/);
      await checkBothWidths(page, 'journey-1-signed-in');
      await page.getByRole('list', { name: 'Your tenants' }).getByRole('link', { name: TENANT }).click();
      await page.waitForURL(new RegExp(`/tenants/${TENANT}$`));

      // 2. Add a site aggregator (MariaDB) in the marketplace: no password goes through the console.
      await openFromNav(page, 'Marketplace');
      await page.getByRole('heading', { name: 'Marketplace' }).waitFor();
      await page.getByRole('button', { name: 'Install MySQL / MariaDB' }).click();
      const form = page.getByRole('form', { name: 'Install MySQL / MariaDB' });
      const reader = await sakilaReader();
      await form.getByLabel('Connector name').fill('store');
      const db = form.getByRole('group', { name: 'Database 1' });
      await db.getByLabel('Name in the agent').fill('sakila');
      await db.getByLabel('Host (as the site sees it)').fill('127.0.0.1');
      await db.getByLabel('Port').fill(String(services.mariadb.port));
      await db.getByLabel('Login').fill(reader.user);
      await db.getByLabel('Database', { exact: true }).fill('sakila');
      await form.getByLabel('Install folder on the site').fill(siteDir);
      await form.getByRole('button', { name: 'Create connector and show the command' }).click();

      // 3. Run the shown agent command with the real CLI, the password typed on the site (its environment).
      const shown = shownCommands((await page.getByTestId('agent-command').textContent())!);
      expect(shown.lines.join('\n')).not.toContain(reader.password);
      await page.screenshot({ path: join(SCREENS, 'journey-2-site-command.png'), fullPage: true });
      const init = await exitOf(runShown(shown.init, { VSC_API_KEY: shown.apiKey, SAKILA_PASSWORD: reader.password }));
      expect(init).toMatchObject({ code: 0 });
      agent = runShown(shown.run, {});

      // 4. See it online.
      const status = page.getByTestId('install-status');
      await status.getByText('Online', { exact: true }).waitFor({ timeout: 60_000 });
      expect(await status.textContent()).toContain('databases: sakila');
      await checkBothWidths(page, 'journey-3-site-online');

      // 5. Browse the Sakila schema (discovered when the agent connected).
      await status.getByRole('link', { name: 'Open the connector' }).click();
      const schema = page.getByTestId('schema-browser');
      await schema
        .getByTestId('schema-summary')
        .getByText('sakila version 1: 16 tables, 7 views')
        .waitFor({ timeout: 60_000 });
      await schema.locator('summary', { hasText: /^film / }).click();
      await schema.locator('details details[open] code', { hasText: 'release_year' }).waitFor();
      await checkBothWidths(page, 'journey-4-sakila-schema');

      // 6. Draw Sakila film → map (JSONata) → a cloud PostgreSQL table in the designer.
      await openFromNav(page, 'Designer');
      await page.getByLabel('Definition id').fill(DEFINITION);
      await page.getByRole('button', { name: 'Open definition' }).click();
      await page.getByText('No version saved yet.').waitFor();
      const palette = page.getByRole('navigation', { name: 'Palette' });
      await palette.getByLabel('Connector').selectOption({ label: 'store' });
      await palette.getByLabel('Database', { exact: true }).fill('sakila');
      await palette.getByRole('button', { name: 'Show tables' }).click();
      await palette.getByText(/tables of sakila \(schema version 1\)/).waitFor();
      // The site's table dragged from the palette onto the canvas.
      await page.getByTestId('palette-read-sakila.film').dragTo(page.getByTestId('canvas'));
      await page.getByTestId('node-read-film-1').waitFor();
      await palette.getByRole('button', { name: 'Add Map fields (JSONata)' }).click();
      await page.getByTestId('node-map-1').waitFor();
      await connectSteps(page, 'read-film-1', 'map-1');

      const inspector = page.getByRole('complementary', { name: 'Inspector' });
      await page.getByTestId('node-map-1').click();
      await inspector.getByLabel('Expression for id').fill('film_id');
      await inspector.getByRole('button', { name: 'Add a field' }).click();
      await inspector.getByLabel('Output field 2').fill('title');
      await inspector.getByLabel('Expression for title').fill('$uppercase(title)');
      // The mapping previewed on rows sampled on the site (its policy applies), mapped in the browser.
      await inspector.getByRole('button', { name: 'Sample 5 rows of film on the site' }).click();
      await inspector.getByText('5 rows sampled on the site from film.').waitFor({ timeout: 30_000 });
      await inspector.getByTestId('mapping-preview').getByText('"ACADEMY DINOSAUR"').waitFor();

      await palette.getByRole('button', { name: 'Add Write a cloud database table' }).click();
      await page.getByTestId('node-write-1').waitFor();
      await inspector.getByLabel('database', { exact: true }).fill('warehouse');
      await inspector.getByLabel('name', { exact: true }).fill(TABLE);
      await inspector.getByLabel('create if missing (optional)').check();
      await connectSteps(page, 'map-1', 'write-1');

      // 7. Validate (live, in the browser), save, publish, run.
      await expectText(page.getByTestId('validation-summary'), 'The definition is valid.');
      expect(await seriousViolations(page)).toEqual([]);
      await page.screenshot({ path: join(SCREENS, 'journey-5-designer.png'), fullPage: true });
      await page.getByRole('button', { name: 'Save as a version' }).click();
      await page.getByText('Saved as version 1.').waitFor();
      await page.getByRole('button', { name: 'Publish version 1' }).click();
      await page.getByText('Version 1 is published.').waitFor();
      const firstRun = await runPublished(page);

      // 8. Watch it finish on the runs page.
      await openRunFromList(page, consoleUrl, firstRun);
      await page.getByTestId('run-status').getByText('completed', { exact: true }).waitFor({ timeout: 180_000 });
      for (const step of ['read-film-1', 'map-1', 'write-1'])
        await page.getByTestId(`step-${step}`).getByText('completed', { exact: true }).waitFor();
      // The run is the person's, not the admin token's, named by their email (not user:<id>).
      await page.getByText(`(manual by ${OWNER.email})`).waitFor();
      expect(await page.getByText(`user:${ownerId}`).count()).toBe(0);
      // What the console shows of the destination: the write step's output (rows written).
      const write = page.getByTestId('step-write-1');
      await write.getByText('Output', { exact: true }).click();
      expect(await write.locator('pre').last().textContent()).toMatch(/1000/);
      await checkBothWidths(page, 'journey-6-run-completed');

      // 9. The rows, in the cloud PostgreSQL: every film, mapped.
      expect(await sql(`SELECT count(*)::int AS n FROM ${TABLE}`)).toEqual([{ n: 1000 }]);
      expect(await sql(`SELECT id::int AS id, title FROM ${TABLE} WHERE id IN (1, 1000) ORDER BY id`)).toEqual([
        { id: 1, title: 'ACADEMY DINOSAUR' },
        { id: 1000, title: 'ZORRO ARK' },
      ]);

      // 10. Break it: a bad mapping is an error on its node at once, and blocks saving.
      await openFromNav(page, 'Designer');
      await page.getByLabel('Definition id').fill(DEFINITION);
      await page.getByRole('button', { name: 'Open definition' }).click();
      await page.getByText('Opened version 1, the newest.').waitFor();
      await page.getByTestId('node-map-1').click();
      await inspector.getByLabel('Expression for title').fill('$uppercase(title');
      await page
        .getByTestId('node-map-1')
        .getByText(/Error: transform\.fields\.title is not valid JSONata/)
        .waitFor({ timeout: 5_000 });
      expect(await page.getByRole('button', { name: 'Save as a version' }).isDisabled()).toBe(true);
      await page.screenshot({ path: join(SCREENS, 'journey-7-bad-mapping.png'), fullPage: true });

      // 11. A destination problem fails a run: the warehouse's owner adds a rule the films break.
      await sql(`ALTER TABLE ${TABLE} ADD CONSTRAINT journey_short_titles CHECK (length(title) <= 12) NOT VALID`);
      const failedRun = await runPublished(page);
      await openRunFromList(page, consoleUrl, failedRun);
      await page.getByTestId('run-status').getByText('failed', { exact: true }).waitFor({ timeout: 180_000 });
      const alert = page.getByTestId('step-write-1').getByRole('alert');
      // The database's own words, and what to do about them.
      expect(await alert.textContent()).toMatch(/Error:.*violates check constraint "journey_short_titles"/s);
      expect(await alert.textContent()).toContain('The destination database refused the rows');
      // The steps before the write were done: a retry from the write reuses them.
      await page.getByTestId('step-map-1').getByText('completed', { exact: true }).waitFor();
      await checkBothWidths(page, 'journey-8-run-failed');

      // 12. The owner lifts the rule; the run is retried from its failed step and finishes.
      await sql(`ALTER TABLE ${TABLE} DROP CONSTRAINT journey_short_titles`);
      await alert.getByRole('button', { name: 'Retry from write-1' }).click();
      await page.getByRole('link', { name: 'Open the new run' }).click();
      await page.getByTestId('run-status').getByText('completed', { exact: true }).waitFor({ timeout: 180_000 });
      for (const step of ['read-film-1', 'map-1'])
        expect(await page.getByTestId(`step-${step}`).textContent()).toContain(
          'reused: the output of an earlier run of this step',
        );
      await checkBothWidths(page, 'journey-9-retried');
      // The titles the rule refused are there now.
      const [long] = await sql<{ n: number }>(`SELECT count(*)::int AS n FROM ${TABLE} WHERE length(title) > 12`);
      expect(long!.n).toBeGreaterThan(0);
      expect(await sql(`SELECT count(*)::int AS n FROM ${TABLE}`)).toEqual([{ n: 1000 }]);
      await page.close();
    },
    15 * 60_000,
  );
});

/** "Run the published version" in the designer; answers the run id its message names. */
async function runPublished(page: Page): Promise<string> {
  const notice = page.getByText(/Run .+ started on version 1\./);
  // A message of an earlier run may still be shown: wait for a new one.
  const before = (await notice.count()) ? await notice.textContent() : null;
  await page.getByRole('button', { name: 'Run the published version' }).click();
  const text = await until('the run started', async () => {
    const now = (await notice.count()) ? await notice.textContent() : null;
    return now && now !== before ? now : undefined;
  });
  return /Run (.+) started on version 1\./.exec(text)![1]!;
}

/** A page of the tenant's navigation (the same on every page of a tenant). */
async function openFromNav(page: Page, label: string): Promise<void> {
  await page
    .getByRole('navigation', { name: `Tenant ${TENANT}` })
    .getByRole('link', { name: label })
    .click();
}

/** The tenant's runs page, then the run's own page through its row. */
async function openRunFromList(page: Page, consoleUrl: string, runId: string): Promise<void> {
  await page.goto(`${consoleUrl}/tenants/${TENANT}/runs`);
  const row = page.locator(`[data-testid="run-row"][data-run-id="${runId}"]`);
  await row.waitFor({ timeout: 30_000 });
  await row.getByRole('link').first().click();
  await page.waitForURL(new RegExp(`/runs/${encodeURIComponent(runId)}$`));
}
