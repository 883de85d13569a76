import { join } from 'node:path';
import { ESLint } from 'eslint';

const root = join(__dirname, '..', '..');

async function ruleIds(code: string, filePath: string): Promise<string[]> {
  const eslint = new ESLint({ cwd: root });
  const [result] = await eslint.lintText(code, { filePath: join(root, filePath) });
  return (result?.messages ?? []).map((m) => m.ruleId ?? m.message);
}

// Import lines are written with ${q} for the quote so that this file does not seem to import them itself
// (the dependency check in workspace.test.ts reads every source's imports).
const q = "'";

describe('lint rules the design relies on', () => {
  it('forbids Node built-ins and I/O packages in workflow code', async () => {
    expect(
      await ruleIds(
        `import { readFileSync } from ${q}node:fs${q};\nexport const x = readFileSync;\n`,
        'workflows/src/some-workflow.ts',
      ),
    ).toContain('no-restricted-imports');
    expect(
      await ruleIds(`import { Pool } from ${q}pg${q};\nexport const x = Pool;\n`, 'workflows/src/some-workflow.ts'),
    ).toContain('no-restricted-imports');
    expect(
      await ruleIds('export const now = () => setTimeout(() => undefined, 1);\n', 'workflows/src/some-workflow.ts'),
    ).toContain('no-restricted-globals');
  });

  it('lets workflows import activity types, and nothing else from activities', async () => {
    expect(
      await ruleIds(
        `import type { AgentActivities } from ${q}@vansales/activities${q};\nexport type A = AgentActivities;\n`,
        'workflows/src/some-workflow.ts',
      ),
    ).toEqual([]);
    expect(
      await ruleIds(
        `import { createCloudWorker } from ${q}@vansales/activities${q};\nexport const c = createCloudWorker;\n`,
        'workflows/src/some-workflow.ts',
      ),
    ).toContain('@typescript-eslint/no-restricted-imports');
  });

  it('allows the same imports outside workflow code', async () => {
    expect(
      await ruleIds(
        `import { readFileSync } from ${q}node:fs${q};\nexport const x = readFileSync;\n`,
        'gateway/src/some-module.ts',
      ),
    ).toEqual([]);
  });

  it('forbids reaching into another package by a relative path, from sources, tests and benchmarks alike', async () => {
    const rule = 'vansales/no-cross-package-relative-import';
    expect(
      await ruleIds(
        `import { machineId } from ${q}../../connector-agent/src/machine-id${q};\nexport const m = machineId;\n`,
        'e2e/test/some.e2e.test.ts',
      ),
    ).toContain(rule);
    expect(
      await ruleIds(`export { discoverSchema } from ${q}../connector-agent/src/schema${q};\n`, 'bench/some-bench.ts'),
    ).toContain(rule);
    expect(
      await ruleIds(
        `export const load = () => import(${q}../../../libs/buffer/src/keyring${q});\n`,
        'libs/dataflow/test/some.test.ts',
      ),
    ).toContain(rule);
    expect(
      await ruleIds(
        `import { x } from ${q}../../gateway/src/app${q};\nexport const y = x;\n`,
        'workflows/src/some-workflow.ts',
      ),
    ).toContain(rule);
    // Inside one package, relative paths are how its own tests reach its sources.
    expect(
      await ruleIds(
        `import { createApp } from ${q}../src/app${q};\nexport const a = createApp;\n`,
        'gateway/test/some.test.ts',
      ),
    ).toEqual([]);
    expect(
      await ruleIds(
        `import { machineId } from ${q}@vansales/connector-agent${q};\nexport const m = machineId;\n`,
        'e2e/test/some.e2e.test.ts',
      ),
    ).toEqual([]);
  });

  it('requires kebab-case file names', async () => {
    expect(await ruleIds('export const x = 1;\n', 'gateway/src/agentHub.ts')).toContain(
      'check-file/filename-naming-convention',
    );
    expect(await ruleIds('export const x = 1;\n', 'gateway/src/agent-hub.ts')).toEqual([]);
  });
});
