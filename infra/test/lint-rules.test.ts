import { join } from 'node:path';
import { ESLint } from 'eslint';

const root = join(__dirname, '..', '..');

async function ruleIds(code: string, filePath: string): Promise<string[]> {
  const eslint = new ESLint({ cwd: root });
  const [result] = await eslint.lintText(code, { filePath: join(root, filePath) });
  return (result?.messages ?? []).map((m) => m.ruleId ?? m.message);
}

describe('lint rules the design relies on', () => {
  it('forbids Node built-ins and I/O packages in workflow code', async () => {
    expect(await ruleIds("import { readFileSync } from 'node:fs';\nexport const x = readFileSync;\n", 'workflows/src/some-workflow.ts')).toContain('no-restricted-imports');
    expect(await ruleIds("import { Pool } from 'pg';\nexport const x = Pool;\n", 'workflows/src/some-workflow.ts')).toContain('no-restricted-imports');
    expect(await ruleIds("export const now = () => setTimeout(() => undefined, 1);\n", 'workflows/src/some-workflow.ts')).toContain('no-restricted-globals');
  });

  it('lets workflows import activity types, and nothing else from activities', async () => {
    expect(await ruleIds("import type { AgentActivities } from '@vansales/activities';\nexport type A = AgentActivities;\n", 'workflows/src/some-workflow.ts')).toEqual([]);
    expect(await ruleIds("import { createCloudWorker } from '@vansales/activities';\nexport const c = createCloudWorker;\n", 'workflows/src/some-workflow.ts')).toContain('@typescript-eslint/no-restricted-imports');
  });

  it('allows the same imports outside workflow code', async () => {
    expect(await ruleIds("import { readFileSync } from 'node:fs';\nexport const x = readFileSync;\n", 'gateway/src/some-module.ts')).toEqual([]);
  });

  it('requires kebab-case file names', async () => {
    expect(await ruleIds('export const x = 1;\n', 'gateway/src/agentHub.ts')).toContain('check-file/filename-naming-convention');
    expect(await ruleIds('export const x = 1;\n', 'gateway/src/agent-hub.ts')).toEqual([]);
  });
});
