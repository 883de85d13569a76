import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { bundleWorkflows } from '../src/workflow-bundle';
import { testServices } from '@vansales/test-kit';

/** Bundles the workflow code once per test run; every test's Worker loads the same file. */
export default async function globalSetup(): Promise<void> {
  const dir = join(testServices().stateDir, 'jest');
  mkdirSync(dir, { recursive: true });
  const bundle = await bundleWorkflows();
  const path = join(dir, 'workflow-bundle.js');
  writeFileSync(path, bundle.code);
  process.env.VSC_TEST_WORKFLOW_BUNDLE = path;
}
