import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { historyFromJSON } from '@temporalio/common/lib/proto-utils';
import { Worker } from '@temporalio/worker';
import { workflowTracingSinks } from '@vansales/tracing/temporal';
import * as workflows from '../src';

/**
 * Every recorded history (workflows/test/histories, made by e2e/test/support/record-histories.ts) must
 * replay against today's workflow code: a change that breaks determinism fails here, not in
 * production. The bundle is the one built once per test run.
 */
const dir = join(__dirname, 'histories');
const files = readdirSync(dir).filter((f) => f.endsWith('.json'));

describe('replaying recorded histories of every published workflow', () => {
  it('has a history for each published workflow', () => {
    const types = files.map((f) => {
      const history = JSON.parse(readFileSync(join(dir, f), 'utf8')) as {
        events: { workflowExecutionStartedEventAttributes?: { workflowType?: { name?: string } } }[];
      };
      return history.events[0]?.workflowExecutionStartedEventAttributes?.workflowType?.name;
    });
    // Every workflow the package exports, so a new one cannot ship without a recorded history.
    const published = Object.entries(workflows)
      .filter(([name, value]) => typeof value === 'function' && name.endsWith('Workflow'))
      .map(([name]) => name);
    expect(new Set(types)).toEqual(new Set(published));
  });

  it.each(files)('%s replays without nondeterminism', async (file) => {
    const json = JSON.parse(readFileSync(join(dir, file), 'utf8')) as {
      events: { workflowExecutionStartedEventAttributes?: { workflowId?: string } }[];
    };
    const history = historyFromJSON(json);
    // The recorded workflow id where the server wrote it: ids derived from it (a child's) must match on replay.
    const workflowId = json.events[0]?.workflowExecutionStartedEventAttributes?.workflowId ?? file;
    const codePath = process.env.VSC_TEST_WORKFLOW_BUNDLE;
    expect(codePath).toBeTruthy();
    await expect(
      // The bundle has Temporal's tracing interceptors: their sink, as the cloud worker registers it untraced.
      Worker.runReplayHistory(
        { workflowBundle: { codePath: codePath! }, sinks: workflowTracingSinks(undefined) },
        history,
        workflowId,
      ),
    ).resolves.toBeUndefined();
  });
});
