import { randomUUID } from 'node:crypto';
import { join } from 'node:path';
import { sakilaDatabase, sakilaReader, until } from './support/harness';
import {
  connectConsole,
  connectSteps,
  expectText,
  SCREENS,
  seriousViolations,
  startConsoleStand,
  type ConsoleStand,
} from './support/console-browser';

const TENANT = 'designer-e2e';

/**
 * The designer in Debian's Chromium against a real gateway: a definition built from the palette
 * (one step dragged, two added with the keyboard), a bad mapping shown as an error on its node,
 * fixed, saved, published, changed, saved again, compared side by side and run.
 */
describe('the console designer in a real browser (Chromium, axe-core)', () => {
  let under: ConsoleStand;

  beforeAll(async () => {
    under = await startConsoleStand('designer e2e');
  }, 20 * 60_000);

  afterAll(async () => {
    await under?.close();
  });

  it(
    'builds a definition from the palette, shows a bad mapping on its node, then saves, publishes, compares and runs it',
    async () => {
      const { platform, browser, consoleUrl } = under;
      expect((await platform.api('POST', '/v1/tenants', { id: TENANT, name: 'Designer e2e' })).status).toBe(201);
      const page = await browser.newPage({ viewport: { width: 1280, height: 900 } });
      await connectConsole(page, under);
      await page.goto(`${consoleUrl}/tenants/${TENANT}/designer`);
      await page.getByLabel('Definition id').fill('films');
      await page.getByRole('button', { name: 'Open definition' }).click();
      await page.getByText('No version saved yet.').waitFor();

      const inspector = page.getByRole('complementary', { name: 'Inspector' });
      const field = (label: string) => inspector.getByLabel(label, { exact: true });

      // 1. A source dragged from the palette onto the canvas.
      await page.getByTestId('palette-source-cloud-db').dragTo(page.getByTestId('canvas'));
      await page.getByTestId('node-read-1').waitFor();
      await field('database').fill('warehouse');
      await field('name').fill('film');
      // 2. A mapping and a destination added with their buttons (the keyboard path).
      await page.getByRole('button', { name: 'Add Map fields (JSONata)' }).click();
      await page.getByTestId('node-map-1').waitFor();
      await page.getByRole('button', { name: 'Add Write a cloud database table' }).click();
      await field('database').fill('warehouse');
      await field('name').fill('film_copy');
      await connectSteps(page, 'read-1', 'map-1');
      await connectSteps(page, 'map-1', 'write-1');

      // 3. A bad mapping: the error is on the node, in words, as soon as it is typed.
      await page.getByTestId('node-map-1').click();
      await inspector.getByLabel('Expression for id').fill('$uppercase(title');
      const mapNode = page.getByTestId('node-map-1');
      await mapNode
        .getByText(/Error: transform\.fields\.id is not valid JSONata: Expected/)
        .waitFor({ timeout: 5_000 });
      expect(await page.getByTestId('validation-summary').textContent()).toMatch(/1 error/);
      expect(await page.getByRole('button', { name: 'Save as a version' }).isDisabled()).toBe(true);
      await page.screenshot({ path: join(SCREENS, 'designer-1-bad-mapping.png') });

      // The preview on pasted sample rows (no site here: the step before is a cloud table).
      await inspector.getByLabel('Expression for id').fill('$uppercase(title)');
      await inspector.getByLabel('Sample rows (a JSON array of records)').fill('[{"title":"academy dinosaur"}]');
      await inspector.getByTestId('mapping-preview').getByText('"ACADEMY DINOSAUR"').waitFor();
      await mapNode.getByText(/Error:/).waitFor({ state: 'detached' });
      await expectText(page.getByTestId('validation-summary'), 'The definition is valid.');
      await page.screenshot({ path: join(SCREENS, 'designer-2-valid.png') });

      // 4. Save, publish, see it in the versions list.
      await page.getByRole('button', { name: 'Save as a version' }).click();
      await page.getByText('Saved as version 1.').waitFor();
      await page.getByRole('button', { name: 'Publish version 1' }).click();
      await page.getByText('Version 1 is published.').waitFor();
      await expectText(page.getByTestId('version-1'), 'Published');
      const stored = await platform.api<{ publishedVersion?: number }>(
        'GET',
        `/v1/tenants/${TENANT}/definitions/films`,
      );
      expect(stored.body.publishedVersion).toBe(1);

      // 5. A second version (one more mapped field), compared with the first side by side.
      await page.getByTestId('node-map-1').click();
      await inspector.getByRole('button', { name: 'Add a field' }).click();
      await inspector.getByLabel('Expression for field2').fill('film_id');
      await page.getByRole('button', { name: 'Save as a version' }).click();
      await page.getByText('Saved as version 2.').waitFor();
      await page.getByRole('button', { name: 'Compare' }).click();
      await expectText(page.getByTestId('diff-right-map-1'), 'changed');
      await expectText(page.getByTestId('diff-left-read-1'), 'same');
      expect(await seriousViolations(page)).toEqual([]);
      await page.screenshot({ path: join(SCREENS, 'designer-3-versions-diff.png'), fullPage: true });

      // 6. Run the published version: the gateway starts it (its outcome is the runs page's business).
      await page.getByRole('button', { name: 'Run the published version' }).click();
      await page.getByText(/Run .+ started on version 1\./).waitFor();

      // 7. What only the gateway knows (the tenant's connectors) comes back from the save's 422 onto the node.
      await page.getByTestId('node-read-1').click();
      await inspector.getByLabel('kind', { exact: true }).first().selectOption('site-db');
      await field('connector id').fill(randomUUID());
      await field('database').fill('sakila');
      await expectText(page.getByTestId('validation-summary'), 'The definition is valid.');
      await page.getByRole('button', { name: 'Save as a version' }).click();
      await expectText(page.getByRole('alert'), 'Saving failed');
      await page
        .getByTestId('node-read-1')
        .getByText(/does not exist in this tenant/)
        .waitFor();
      await page.screenshot({ path: join(SCREENS, 'designer-4-gateway-refusal.png') });
      const versions = await platform.api<unknown[]>('GET', `/v1/tenants/${TENANT}/definitions/films/versions`);
      expect(versions.body).toHaveLength(2);

      // 8. Opened afresh, the definition is drawn from its newest version.
      await page.goto(`${consoleUrl}/tenants/${TENANT}/designer`);
      await page.getByLabel('Definition id').fill('films');
      await page.getByRole('button', { name: 'Open definition' }).click();
      await page.getByText('Opened version 2, the newest.').waitFor();
      for (const step of ['read-1', 'map-1', 'write-1']) await page.getByTestId(`node-${step}`).waitFor();
      await page.close();
    },
    5 * 60_000,
  );

  it(
    "offers the tables of a site's discovered schema and previews a mapping on rows sampled on the site",
    async () => {
      const { platform, browser, consoleUrl } = under;
      const tenant = `${TENANT}-site`;
      await platform.api('POST', '/v1/tenants', { id: tenant, name: 'Designer e2e site' });
      const connector = await platform.api<{ id: string; apiKey: string }>('POST', `/v1/tenants/${tenant}/connectors`, {
        name: 'store',
      });
      const agent = platform.startAgent({
        apiKey: connector.body.apiKey,
        databases: { sakila: sakilaDatabase(await sakilaReader()) },
      });
      await agent.welcomed;
      // The agent's databases are discovered when it connects.
      await until(
        'Sakila discovered',
        async () =>
          (await platform.api('GET', `/v1/tenants/${tenant}/connectors/${connector.body.id}/schemas/sakila`)).status ===
          200,
      );

      const page = await browser.newPage({ viewport: { width: 1280, height: 900 } });
      await connectConsole(page, under);
      await page.goto(`${consoleUrl}/tenants/${tenant}/designer`);
      const palette = page.getByRole('navigation', { name: 'Palette' });
      await palette.getByLabel('Connector').selectOption({ label: 'store' });
      await palette.getByLabel('Database', { exact: true }).fill('sakila');
      await palette.getByRole('button', { name: 'Show tables' }).click();
      await palette.getByText(/tables of sakila \(schema version 1\)/).waitFor();
      await palette.getByRole('button', { name: 'Add Read film', exact: true }).click();
      await page.getByTestId('node-read-film-1').waitFor();
      await palette.getByRole('button', { name: 'Add Map fields (JSONata)' }).click();
      await connectSteps(page, 'read-film-1', 'map-1');

      await page.getByTestId('node-map-1').click();
      const inspector = page.getByRole('complementary', { name: 'Inspector' });
      await inspector.getByLabel('Expression for id').fill('$uppercase(title)');
      await inspector.getByRole('button', { name: 'Sample 5 rows of film on the site' }).click();
      await inspector.getByText('5 rows sampled on the site from film.').waitFor({ timeout: 30_000 });
      const cells = await inspector.getByTestId('mapping-preview').locator('tbody td').allTextContents();
      expect(cells).toHaveLength(5);
      // Sakila's film titles, upper-cased by the mapping in the browser.
      for (const cell of cells) expect(cell).toMatch(/^"[A-Z0-9 ]+"$/);
      await page.screenshot({ path: join(SCREENS, 'designer-5-site-sample.png') });
      await agent.close();
      await page.close();
    },
    5 * 60_000,
  );
});
